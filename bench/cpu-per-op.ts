// CPU per operation in the web and the worker (from /proc) and latency, for one app or several
// running at once: send → 202 (each with its 1-token reply), send → first chunk at an open stream,
// and a resume. With several apps the operations alternate A, B, B, A… so that a machine's drift
// hits all of them alike (bench/ab.ts); with one it is `bench/profile.ts cpu`.
import type { RunningApp } from "../tests/support/app";
import { openSse } from "./http";
import { cpuSeconds, type Guest, guest, sendMessage } from "./scenarios";
import { summarize } from "./stats";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Side {
  name: string;
  app: RunningApp;
  user: Guest;
}

export async function cpuPerOperation(apps: Array<{ name: string; app: RunningApp }>, count: number): Promise<void> {
  const sides: Side[] = [];
  for (const { name, app } of apps) sides.push({ name, app, user: await guest(app.baseUrl) });
  for (const side of sides)
    for (let i = 0; i < 50; i++)
      await sendMessage(side.app.baseUrl, side.user, `/mock tokens=1 tps=0 ttft=0\nwarm ${i}`);

  await measure("send → 202", async (side, i) => {
    await sendMessage(side.app.baseUrl, side.user, `/mock tokens=1 tps=0 ttft=0\nping ${i}`);
  });

  // The first chunk may arrive before the 202 is read: first chunks are kept by reply id.
  const readers = new Map<Side, { firstAt: Map<string, number>; waiters: Map<string, () => void> }>();
  const closers: Array<() => void> = [];
  for (const side of sides) {
    const firstAt = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const reader = openSse(`${side.app.baseUrl}/api/chat/stream`, { cookie: side.user.cookie }, (frame, at) => {
      if (frame.event !== "chunk") return undefined;
      const { messageId } = JSON.parse(frame.data) as { messageId: string };
      if (!firstAt.has(messageId)) firstAt.set(messageId, at);
      waiters.get(messageId)?.();
      return undefined;
    });
    await reader.opened;
    readers.set(side, { firstAt, waiters });
    closers.push(() => reader.close());
  }
  await measure("send → first chunk", async (side, i) => {
    const reader = readers.get(side);
    if (!reader) return;
    const startedAt = performance.now();
    const { assistantMessageId: id } = await sendMessage(
      side.app.baseUrl,
      side.user,
      `/mock tokens=20 tps=0 ttft=0\nfirst ${i}`,
    );
    if (!reader.firstAt.has(id)) await new Promise<void>((resolve) => reader.waiters.set(id, resolve));
    reader.waiters.delete(id);
    return (reader.firstAt.get(id) ?? Number.NaN) - startedAt;
  });
  for (const close of closers) close();

  const resumeFrom = new Map<Side, { sessionId: string; assistantMessageId: string }>();
  for (const side of sides)
    resumeFrom.set(
      side,
      await sendMessage(side.app.baseUrl, side.user, "/mock tokens=2000 tps=4000 ttft=0\nresume me"),
    );
  await sleep(1500);
  await measure("resume of a finished reply from its 5th chunk", async (side) => {
    const sent = resumeFrom.get(side);
    if (!sent) return;
    const reader = openSse(
      `${side.app.baseUrl}/api/chat/stream/${sent.sessionId}`,
      { cookie: side.user.cookie, "last-event-id": `${sent.assistantMessageId}:1:5` },
      (frame) => (frame.event === "done" ? true : undefined),
    );
    await reader.ended;
  });

  /** `operation` may return its own latency (ms); otherwise its duration counts. */
  async function measure(label: string, operation: (side: Side, i: number) => Promise<unknown>) {
    await sleep(1000);
    const cpu = (side: Side) => {
      const { web, worker } = side.app.pids();
      return { web: cpuSeconds(web), worker: cpuSeconds(worker) };
    };
    const start = new Map(sides.map((side) => [side, cpu(side)]));
    const latencies = new Map<Side, number[]>(sides.map((side) => [side, []]));
    for (let i = 0; i < count; i++) {
      // A B, B A, …: neither always goes first.
      for (const side of i % 2 ? [...sides].reverse() : sides) {
        const startedAt = performance.now();
        const latency = await operation(side, i);
        latencies.get(side)?.push(typeof latency === "number" ? latency : performance.now() - startedAt);
        await sleep(10);
      }
    }
    await sleep(1000);
    console.log(label);
    for (const side of sides) {
      const before = start.get(side) ?? { web: 0, worker: 0 };
      const after = cpu(side);
      const perOperation = (now: number, then: number) => (((now - then) * 1000) / count).toFixed(2);
      console.log(
        `  ${side.name}: CPU ms each: web ${perOperation(after.web, before.web)}, worker ${perOperation(after.worker, before.worker)}; latency ms`,
        summarize(latencies.get(side) ?? []),
      );
    }
  }
}
