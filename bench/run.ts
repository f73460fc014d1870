// npm run bench — how fast the pipeline is on this machine, through the HTTP/SSE API only.
// A first slice: per mode, send → 202, send → first chunk (zero-delay model), a default 120-token
// reply end to end, and delivery latency (worker write → SSE reader) at 100 concurrent replies.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { type Mode, startApp } from "../tests/support/app";
import { ApiClient, isEnd, type SseEvent } from "../tests/support/client";
import { type Summary, summarize, table } from "./stats";

const modes: Mode[] = (process.env.BENCH_MODES?.split(",") as Mode[] | undefined) ?? ["embedded", "redis"];
const BENCH_ENV = {
  RATE_LIMIT_SENDS_PER_MINUTE: "1000000",
  MAX_RUNNING_REPLIES_PER_USER: "100000",
  WORKER_CONCURRENCY: "2000",
  LOG_LEVEL: "error",
};

async function timeSends(baseUrl: string, senders: number, perSender: number): Promise<number[]> {
  const clients = await Promise.all(Array.from({ length: senders }, () => ApiClient.guest(baseUrl)));
  const samples: number[] = [];
  await Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < perSender; i++) {
        const startedAt = performance.now();
        await client.send("/mock tokens=1 tps=0 ttft=0\nping");
        samples.push(performance.now() - startedAt);
      }
    }),
  );
  return samples;
}

/** Opens the all-sessions stream, then sends; resolves with send→first chunk and send→done. */
async function oneTurn(client: ApiClient, content: string) {
  let messageId = "";
  const arrivals = new Map<SseEvent, number>();
  let finish: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // A zero-delay reply can end before the 202 is read: events are kept and checked again then.
  const isDone = (all: SseEvent[]) => messageId !== "" && all.some(isEnd(messageId));
  const stop = new AbortController();
  const reading = client.readSse("/api/chat/stream", {
    timeoutMs: 120_000,
    signal: stop.signal,
    until: (event, all) => {
      arrivals.set(event, performance.now());
      if (isDone(all)) finish();
      return isDone(all);
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const sentAt = performance.now();
  messageId = (await client.send(content)).assistantMessageId;
  if (isDone([...arrivals.keys()])) finish();
  await Promise.race([ended, reading]);
  stop.abort();
  await reading;
  const mine = [...arrivals.entries()].filter(([event]) => event.data.messageId === messageId);
  const firstChunk = mine.find(([event]) => event.event === "chunk")?.[1] ?? Number.NaN;
  const doneAt = mine.find(([event]) => isEnd(messageId)(event))?.[1] ?? Number.NaN;
  const delivery = mine
    .filter(([event]) => event.event === "chunk")
    .map(([event, at]) => wallAt(at) - Number(event.data.ts));
  return { firstChunk: firstChunk - sentAt, done: doneAt - sentAt, delivery };
}

// performance.now() and Date.now() on one clock: a chunk's `ts` (wall ms) relative to a perf mark.
const wallOffset = Date.now() - performance.now();
const wallAt = (perf: number) => perf + wallOffset;

async function benchMode(mode: Mode): Promise<Array<[string, Summary]>> {
  const app = await startApp(mode, BENCH_ENV);
  try {
    const rows: Array<[string, Summary]> = [];
    await timeSends(app.baseUrl, 4, 5); // warm-up
    rows.push([`${mode}: send → 202, 1 sender`, summarize(await timeSends(app.baseUrl, 1, 100))]);
    rows.push([`${mode}: send → 202, 50 concurrent senders`, summarize(await timeSends(app.baseUrl, 50, 6))]);
    const client = await ApiClient.guest(app.baseUrl);
    const overhead: number[] = [];
    for (let i = 0; i < 40; i++)
      overhead.push((await oneTurn(client, `/mock tokens=20 tps=0 ttft=0\noverhead ${i}`)).firstChunk);
    rows.push([`${mode}: send → first chunk at reader (zero-delay model)`, summarize(overhead)]);
    const full: number[] = [];
    for (let i = 0; i < 5; i++) full.push((await oneTurn(client, `a 120-token reply, run ${i}`)).done);
    rows.push([`${mode}: 120-token reply end to end (ttft 150, 60 tok/s)`, summarize(full)]);
    const guests = await Promise.all(Array.from({ length: 100 }, () => ApiClient.guest(app.baseUrl)));
    const turns = await Promise.all(
      guests.map((guest, i) => oneTurn(guest, `/mock tokens=120 tps=60 ttft=0\nconcurrent ${i}`)),
    );
    rows.push([`${mode}: delivery worker → reader, 100 replies at once`, summarize(turns.flatMap((t) => t.delivery))]);
    return rows;
  } finally {
    await app.stop();
  }
}

const rows: Array<[string, Summary]> = [];
for (const mode of modes) rows.push(...(await benchMode(mode)));
console.log(table(rows));
const machine = {
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
};
const date = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
mkdirSync("bench/results", { recursive: true });
writeFileSync(
  `bench/results/${date}.json`,
  JSON.stringify({ date, machine, results: Object.fromEntries(rows) }, null, 2),
);
console.log(`\nwrote bench/results/${date}.json`);
