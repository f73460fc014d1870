// npx tsx bench/peers/check.ts — starts bench/peers/server.ts once per kind (PEER_KIND=floor,
// durable and resumable) and checks its HTTP/SSE interface with real requests. Prints PASS/FAIL lines; exits
// non-zero when anything failed. Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and, for durable, Postgres at
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import postgres from "postgres";
import { mockReplyTokens } from "../../lib/llm/mock-text";

type Kind = "floor" | "durable" | "resumable";
const KINDS: Kind[] = (process.env.PEER_KINDS?.split(",") as Kind[] | undefined) ?? ["floor", "durable", "resumable"];
/** The durable floor streams as the floor does. */
const floorLike = (kind: Kind) => kind !== "resumable";
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** The fixed prompt server.ts feeds mockReplyTokens. */
const PROMPT = "bench";
const SERVER = fileURLToPath(new URL("./server.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../..", import.meta.url));

let failures = 0;
function report(ok: boolean, label: string, detail = ""): boolean {
  if (!ok) failures += 1;
  console.log(`${ok ? "PASS" : "FAIL"} ${label}${detail ? ` — ${detail}` : ""}`);
  return ok;
}
function info(label: string, detail: string): void {
  console.log(`INFO ${label} — ${detail}`);
}

const expectedText = (tokens: number) => mockReplyTokens(PROMPT, tokens).join("");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The child process

interface Peer {
  kind: Kind;
  child: ChildProcess;
  base: string;
  stderr: string[];
}

async function startPeer(kind: Kind): Promise<Peer> {
  const child = spawn(process.execPath, ["--import", "tsx", SERVER], {
    cwd: REPO,
    env: { ...process.env, PEER_KIND: kind, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (text: string) => stderr.push(text));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${kind}: no "listening" line in 20 s: ${stderr.join("")}`)),
      20_000,
    );
    child.once("exit", (code) =>
      reject(new Error(`${kind}: exited with ${code} before listening: ${stderr.join("")}`)),
    );
    lines.on("line", (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      } else console.log(`[${kind} stdout] ${line}`);
    });
  });
  return { kind, child, base: `http://127.0.0.1:${port}`, stderr };
}

async function stopPeer(peer: Peer): Promise<void> {
  const { child } = peer;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill("SIGTERM");
  const result = await Promise.race([exited, sleep(8000).then(() => null)]);
  if (result === null) {
    child.kill("SIGKILL");
    report(false, `${peer.kind}: exits on SIGTERM`, "still running after 8 s, killed");
    return;
  }
  report(result[0] === 0, `${peer.kind}: exits cleanly on SIGTERM`, `code=${result[0]} signal=${result[1]}`);
}

// ---------------------------------------------------------------------------------------------
// HTTP and SSE

async function post(peer: Peer, tokens: number, tps: number): Promise<{ status: number; id: string }> {
  const res = await fetch(`${peer.base}/replies`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tokens, tps }),
  });
  const body = (await res.json()) as { id?: unknown };
  return { status: res.status, id: typeof body.id === "string" ? body.id : "" };
}

interface ReadResult {
  status: number;
  contentType: string | null;
  raw: string;
  /** We aborted (stopWhen said so), as opposed to the server ending the response. */
  aborted: boolean;
  /** performance.now() when the response headers arrived. */
  openedAt: number;
}

/** Reads a whole response as text; aborts once `stopWhen(raw)` is true, or after `timeoutMs`. */
async function read(
  url: string,
  options: { stopWhen?: (raw: string) => boolean; timeoutMs?: number } = {},
): Promise<ReadResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error("timeout")), options.timeoutMs ?? 30_000);
  let raw = "";
  let aborted = false;
  try {
    const res = await fetch(url, { signal: abort.signal });
    const openedAt = performance.now();
    const contentType = res.headers.get("content-type");
    if (!res.body) return { status: res.status, contentType, raw, aborted, openedAt };
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        raw += decoder.decode(value, { stream: true });
        if (options.stopWhen?.(raw)) {
          aborted = true;
          abort.abort();
          break;
        }
      }
    } catch (error) {
      if (!aborted) throw error;
    }
    return { status: res.status, contentType, raw, aborted, openedAt };
  } finally {
    clearTimeout(timer);
  }
}

interface Frame {
  id?: string;
  event: string;
  data: string;
}

/** Complete frames of an SSE body (a trailing partial frame is left out). */
function parseFrames(raw: string): Frame[] {
  const pieces = raw.split("\n\n");
  pieces.pop();
  return pieces.map((piece) => {
    const frame: Frame = { event: "message", data: "" };
    for (const line of piece.split("\n")) {
      const colon = line.indexOf(": ");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 2);
      if (field === "id") frame.id = value;
      else if (field === "event") frame.event = value;
      else if (field === "data") frame.data = value;
    }
    return frame;
  });
}

interface Chunk {
  id?: string;
  seq: number;
  text: string;
  ts: number;
}

/** Checks frames are chunks seq 1..n in order (with matching `id:` lines) then one done frame. */
function checkReply(frames: Frame[], expected: string): string | null {
  const chunks: Chunk[] = [];
  for (const [index, frame] of frames.entries()) {
    if (frame.event === "done") {
      if (index !== frames.length - 1) return `done frame at ${index} of ${frames.length}`;
      const done = JSON.parse(frame.data) as { seq: number };
      if (done.seq !== chunks.length) return `done seq ${done.seq}, ${chunks.length} chunks`;
      break;
    }
    if (frame.event !== "chunk") return `unexpected event ${frame.event}`;
    const chunk = JSON.parse(frame.data) as Chunk;
    if (chunk.seq !== chunks.length + 1) return `chunk ${index} has seq ${chunk.seq}`;
    if (frame.id !== String(chunk.seq)) return `id line ${frame.id} for seq ${chunk.seq}`;
    if (typeof chunk.ts !== "number") return `chunk ${chunk.seq} has no ts`;
    chunks.push(chunk);
  }
  if (frames.at(-1)?.event !== "done") return "no done frame at the end";
  const text = chunks.map((chunk) => chunk.text).join("");
  if (text !== expected) return `text differs (${text.length} vs ${expected.length} chars)`;
  return null;
}

const chunkCount = (frames: Frame[]) => frames.filter((frame) => frame.event === "chunk").length;

// ---------------------------------------------------------------------------------------------
// Checks

async function checkKind(peer: Peer): Promise<void> {
  const { kind, base } = peer;
  const label = (text: string) => `${kind}: ${text}`;
  const streamUrl = (id: string, query = "") => `${base}/replies/${id}/stream${query}`;

  if (kind === "durable") await checkDurable(peer);

  const health = await fetch(`${base}/health`);
  report(health.status === 200 && (await health.text()) === "ok", label("GET /health → 200 ok"));

  // (1) POST → 202 + id
  const first = await post(peer, 120, 100);
  report(
    first.status === 202 && /^[0-9a-f-]{36}$/.test(first.id),
    label("POST /replies → 202 + uuid"),
    `${first.status} ${first.id}`,
  );

  // (2) one reader from the start gets chunks 1..n, a done frame and the whole text
  {
    const result = await read(streamUrl(first.id));
    const frames = parseFrames(result.raw);
    const problem = checkReply(frames, expectedText(120));
    report(
      result.status === 200 && result.contentType === "text/event-stream" && problem === null,
      label("one reader (120 tokens, tps 100): seq 1..n in order, done, text equals mockReplyTokens"),
      problem === null
        ? `${chunkCount(frames)} chunks`
        : `${problem}; status ${result.status}: ${result.raw.slice(-300)}`,
    );
  }

  // Unknown id
  {
    const res = await fetch(streamUrl("00000000-0000-0000-0000-000000000000"));
    await res.text();
    report(res.status === 404, label("unknown id → 404"), String(res.status));
  }

  // A finished reply: floor replays it, resumable-stream has nothing to resume
  {
    const result = await read(streamUrl(first.id));
    if (floorLike(kind)) {
      const problem = checkReply(parseFrames(result.raw), expectedText(120));
      report(result.status === 200 && problem === null, label("finished reply replays from memory"), problem ?? "");
    } else {
      report(result.status === 410, label("finished reply → 410"), `${result.status} ${result.raw}`);
    }
  }

  // tps=0: all tokens at once, in 16-token chunks
  {
    const { id } = await post(peer, 500, 0);
    const result = await read(streamUrl(id));
    if (floorLike(kind)) {
      const frames = parseFrames(result.raw);
      const problem = checkReply(frames, expectedText(500));
      report(
        problem === null && chunkCount(frames) === Math.ceil(500 / 16),
        label("tps 0 (500 tokens): 32 chunks of 16 tokens, full text"),
        problem ?? `${chunkCount(frames)} chunks`,
      );
    } else {
      // The reply may be done before the reader's request reaches the producer through Redis.
      const problem = result.status === 200 ? checkReply(parseFrames(result.raw), expectedText(500)) : null;
      report(
        problem === null,
        label("tps 0 (500 tokens): full text if caught while streaming, else 410"),
        problem ?? "",
      );
      info(label("tps 0 reader right after the 202"), `status ${result.status}`);
    }
  }

  // (3) 50 readers on one reply all get the same full text
  {
    const { id } = await post(peer, 300, 300);
    const results = await Promise.all(Array.from({ length: 50 }, () => read(streamUrl(id))));
    const problems = results
      .map((result) => (result.status === 200 ? checkReply(parseFrames(result.raw), expectedText(300)) : result.status))
      .filter((problem) => problem !== null);
    const identical = results.every((result) => result.raw === results[0]?.raw);
    report(
      problems.length === 0 && identical,
      label("50 readers on one reply (300 tokens, tps 300): each complete, bodies identical"),
      problems.length > 0 ? `${problems.length} bad: ${problems[0]}` : identical ? "" : "bodies differ",
    );
  }

  // (4) disconnect halfway through, reconnect while still streaming, get exactly the rest
  {
    const tokens = 400;
    const { id } = await post(peer, tokens, 200);
    const expected = expectedText(tokens);
    const half = expected.length / 2;
    /** Characters of chunk text in the complete frames of `raw`. */
    const textSoFar = (raw: string) =>
      parseFrames(raw)
        .filter((frame) => frame.event === "chunk")
        .reduce((sum, frame) => sum + (JSON.parse(frame.data) as Chunk).text.length, 0);
    const part1 = await read(streamUrl(id), { stopWhen: (raw) => textSoFar(raw) >= half });
    const frames1 = parseFrames(part1.raw);
    // Pretend the last 7 characters never arrived, so the cut falls inside a frame.
    const kept = part1.raw.slice(0, -7);
    let combined: Frame[];
    let part2: ReadResult;
    let query: string;
    if (floorLike(kind)) {
      // Keep only complete frames; `after` is the last seq we have.
      const after = chunkCount(parseFrames(kept));
      query = `?after=${after}`;
      part2 = await read(streamUrl(id, query));
      combined = [...parseFrames(kept), ...parseFrames(part2.raw)];
    } else {
      // `chars` counts every character we have, half a frame included; the rest continues it.
      query = `?chars=${kept.length}`;
      part2 = await read(streamUrl(id, query));
      combined = parseFrames(kept + part2.raw);
    }
    const frames2 = parseFrames(part2.raw);
    const reconnectedAt = Date.now() - (performance.now() - part2.openedAt);
    const live = frames2.filter(
      (frame) => frame.event === "chunk" && (JSON.parse(frame.data) as Chunk).ts >= reconnectedAt,
    );
    const problem = checkReply(combined, expected);
    const stillStreaming = part1.aborted && !frames1.some((frame) => frame.event === "done") && live.length > 0;
    report(
      part2.status === 200 && problem === null && stillStreaming,
      label(`reconnect halfway (400 tokens, tps 200, ${query}): no duplicates, no gaps, live chunks after`),
      problem ??
        `${chunkCount(frames1)} + ${chunkCount(frames2)} chunks, ${live.length} written after the reconnect` +
          (kind === "resumable" ? `, resumed ${kept.endsWith("\n\n") ? "at" : "inside"} a frame` : ""),
    );
  }

  // A late joiner with after=0 / chars=0 gets the whole reply so far, then the rest
  {
    const { id } = await post(peer, 200, 200);
    await sleep(400);
    const result = await read(streamUrl(id));
    const problem = checkReply(parseFrames(result.raw), expectedText(200));
    report(problem === null, label("late joiner (400 ms into a 1 s reply) gets everything"), problem ?? "");
  }

  // (5) /events
  if (floorLike(kind)) {
    const ids: string[] = [];
    const allDone = (raw: string) =>
      ids.length === 2 &&
      ids.every((id) => parseFrames(raw).some((frame) => frame.event === "done" && frame.data.includes(id)));
    const events = read(`${base}/events`, { stopWhen: allDone, timeoutMs: 15_000 });
    await sleep(100);
    const replies = [
      { tokens: 50, tps: 0 },
      { tokens: 60, tps: 200 },
    ];
    for (const reply of replies) ids.push((await post(peer, reply.tokens, reply.tps)).id);
    const result = await events;
    const frames = parseFrames(result.raw);
    const problems = ids.map((id, index) => {
      const mine = frames
        .filter((frame) => frame.data.includes(`"id":"${id}"`))
        .map((frame) => {
          const { id: _id, ...data } = JSON.parse(frame.data) as Chunk;
          return {
            id: frame.event === "chunk" ? String(data.seq) : undefined,
            event: frame.event,
            data: JSON.stringify(data),
          };
        });
      const tokens = replies[index]?.tokens ?? 0;
      return checkReply(mine, expectedText(tokens));
    });
    report(
      result.aborted && problems.every((problem) => problem === null),
      label("GET /events: every chunk and done of two new replies, with their ids"),
      problems.filter(Boolean).join("; "),
    );
  } else {
    const res = await fetch(`${base}/events`);
    await res.text();
    report(res.status === 404, label("GET /events → 404"), String(res.status));
  }
}

/** Each 202 of the durable floor follows its two committed rows and its Redis write. */
async function checkDurable(peer: Peer): Promise<void> {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  const redis = new Redis(REDIS_URL);
  try {
    const { status, id } = await post(peer, 5, 0);
    const rows = await sql<Array<{ role: string; status: string; run: string }>>`
      select role, status, run from bench_durable.messages
      where id = ${id} or id = (select reply_to from bench_durable.messages where id = ${id})
      order by role desc`;
    report(
      status === 202 && rows.map((row) => `${row.role} ${row.status}`).join(", ") === "user done, assistant queued",
      label(peer.kind, "POST → 202 after the message and its reply are committed"),
      JSON.stringify(rows),
    );
    const run = rows[0]?.run ?? "";
    const marks = await redis.keys(`bench-durable-${run}:${id}`);
    report(marks.length === 1, label(peer.kind, "…and after one Redis write for the reply"), marks.join(", "));
  } finally {
    await sql.end({ timeout: 1 });
    redis.disconnect();
  }
}

function label(kind: Kind, text: string): string {
  return `${kind}: ${text}`;
}

const peers: Peer[] = [];
try {
  for (const kind of KINDS) {
    const peer = await startPeer(kind);
    peers.push(peer);
    try {
      await checkKind(peer);
    } catch (error) {
      report(false, `${kind}: checks threw`, String(error));
    }
    await stopPeer(peer);
    if (peer.stderr.length > 0) console.log(`[${kind} stderr]\n${peer.stderr.join("")}`);
  }
} catch (error) {
  report(false, "start", String(error));
} finally {
  for (const peer of peers)
    if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill("SIGKILL");
}
console.log(failures === 0 ? "ALL PASS" : `${failures} FAILED`);
process.exit(failures === 0 ? 0 : 1);
