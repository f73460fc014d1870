import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BullReplyQueue, startBullWorker } from "../../lib/queue/bullmq";
import type { GenerateReplyJob, JobOutcome, ReplyWorkerHandle } from "../../lib/queue/contracts";
import { type OwnRedis, startOwnRedis } from "../support/redis-server";

// The BullMQ queue when Redis restarts empty while a worker is writing a reply, on a redis-server of
// this file's own. The reconciliation then queues the reply again while that worker still runs the
// old job (it ends at its next write, which finds the reply gone from the store). The processor
// here keeps to generate.ts's rules: each run starts an attempt, registers itself by message id
// (as RunningReplies does), and a run whose attempt is no longer the store's stops the run
// registered for its reply. Before the fix the new job had the old one's id and ran next to it in
// the same worker: the old run's stop ended the new run, whose job then completed with nobody
// writing the reply (in the chaos run it stood still ~28 s, until the sweep found it quiet), and
// the old job's end dropped the new job's lock renewals (the new job stalled and ran again).
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let redis: OwnRedis;
beforeAll(async () => {
  redis = await startOwnRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

const newJob = (): GenerateReplyJob => ({
  messageId: randomUUID(),
  sessionId: randomUUID(),
  userId: randomUUID(),
  correlationId: randomUUID(),
});

async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Redis calls made right after the restart may fail until the producer's connection is back. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await call();
    } catch (error) {
      if (tries > 100) throw error;
      await sleep(50);
    }
  }
}

/** The model of generate.ts: attempts, a store that Redis loses, runs registered by message id. */
class ModelWriter {
  /** The store's current attempt per reply (the running hash): gone when Redis loses its data. */
  readonly store = new Map<string, number>();
  readonly registered = new Map<string, AbortController>();
  readonly runs: Array<{ attempt: number; startedAt: number; end?: "completed" | "stopped" | "fenced" }> = [];
  /** Holds the first run before its next write, as the outage did. */
  private release: () => void = () => {};
  readonly held = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private attempts = 0;
  /** Runs going on now, and the most there were at once. */
  live = 0;
  maxLive = 0;

  constructor(private readonly writes: number) {}

  releaseFirst() {
    this.release();
  }

  lose() {
    this.store.clear();
  }

  readonly processor = async (job: GenerateReplyJob): Promise<JobOutcome> => {
    const attempt = ++this.attempts;
    const run: (typeof this.runs)[number] = { attempt, startedAt: Date.now() };
    this.runs.push(run);
    this.live++;
    this.maxLive = Math.max(this.maxLive, this.live);
    this.store.set(job.messageId, attempt);
    const controller = new AbortController();
    this.registered.set(job.messageId, controller);
    try {
      for (let written = 0; written < this.writes; written++) {
        if (attempt === 1) await this.held;
        await sleep(20);
        if (controller.signal.aborted) {
          run.end = "stopped";
          return "finished";
        }
        if (this.store.get(job.messageId) !== attempt) {
          // generate.ts: a write refused by the store stops the reply's model call, by message id.
          run.end = "fenced";
          this.registered.get(job.messageId)?.abort();
          return "finished";
        }
      }
      run.end = "completed";
      return "finished";
    } finally {
      this.live--;
      if (this.registered.get(job.messageId) === controller) this.registered.delete(job.messageId);
    }
  };
}

function start(writer: ModelWriter, prefix: string) {
  const queue = new BullReplyQueue(redis.url, prefix);
  const worker: ReplyWorkerHandle = startBullWorker(
    { url: redis.url, prefix, concurrency: 10, lockDurationMs: 1_000 },
    writer.processor,
  );
  closers.push(
    () => queue.close(),
    () => worker.close(),
  );
  return queue;
}

describe("BullMQ queue: a reply queued again after Redis lost its data", () => {
  it("is written to its end by the new job while the worker still runs the old one", async () => {
    // 150 writes of 20 ms: the new run outlives the lock (1 s) and two stalled checks.
    const writer = new ModelWriter(150);
    const queue = start(writer, `loss-${randomUUID().slice(0, 8)}`);
    const job = newJob();
    await queue.enqueue(job);
    await eventually("the first run", () => writer.runs[0]);

    // Redis restarts empty while the first run waits on its next write.
    await redis.shutdown();
    writer.lose();
    await redis.start();
    // The loss check: every running reply is queued again.
    expect(await retried(() => queue.requeue(job))).toBe(true);
    // The new job lands on the same worker (the only one). Before the fix it started next to the
    // old run at once; give it the time to.
    await Promise.race([eventually("a second run", () => writer.runs[1], 1_500), sleep(1_500)]).catch(() => {});
    writer.releaseFirst();

    // Until a run completes the reply, or nothing runs and no job is left that would.
    const completed = await eventually(
      "a run that writes the reply to its end, or nothing left to write it",
      async () => {
        const done = writer.runs.find((run) => run.end === "completed");
        if (done) return done;
        if (writer.live > 0 || (await queue.isAlive(job.messageId).catch(() => true))) return undefined;
        return null;
      },
      12_000,
    );
    expect(writer.runs.map((run) => run.end)).toEqual(["fenced", "completed"]);
    expect(completed?.attempt).toBe(2);
    // One run of the reply at a time in the process.
    expect(writer.maxLive).toBe(1);
    expect(await queue.isAlive(job.messageId)).toBe(false);
  }, 30_000);
});

describe("BullMQ queue: right after Redis came back", () => {
  it("queues a reply again once its connection is back, instead of failing at once", async () => {
    const prefix = `back-${randomUUID().slice(0, 8)}`;
    const queue = new BullReplyQueue(redis.url, prefix);
    closers.push(() => queue.close());
    const job = newJob();
    await queue.enqueue(job);
    await redis.shutdown();
    // Long enough for the connection's reconnect to back off past the restart.
    await sleep(2_000);
    await redis.start();
    // The worker's loss check sees Redis back on another connection and queues every running reply
    // again: before, this failed with "Stream isn't writeable" and the replies waited for the sweep.
    expect(await queue.requeue(job)).toBe(true);
    expect(await queue.isAlive(job.messageId)).toBe(true);
  }, 30_000);
});

describe("BullMQ queue: requeue", () => {
  it("adds one job per reply: none while one is alive, one of two at once, a fresh one after the end", async () => {
    const prefix = `requeue-${randomUUID().slice(0, 8)}`;
    const queue = new BullReplyQueue(redis.url, prefix);
    closers.push(() => queue.close());
    const job = newJob();
    await queue.enqueue(job);
    await queue.enqueue(job);
    expect(await queue.isAlive(job.messageId)).toBe(true);
    expect(await queue.requeue(job)).toBe(false);

    // The first job ends (a worker runs it once); then, with no worker, two requeues at once.
    let runs = 0;
    const runOnce = async (): Promise<JobOutcome> => {
      runs++;
      return "finished";
    };
    const first = startBullWorker({ url: redis.url, prefix, concurrency: 5, lockDurationMs: 1_000 }, runOnce);
    closers.push(() => first.close());
    await eventually("the first job's end", async () => ((await queue.isAlive(job.messageId)) ? undefined : true));
    await first.close();
    expect(runs).toBe(1);
    const added = await Promise.all([queue.requeue(job), queue.requeue(job)]);
    expect(added.filter(Boolean)).toHaveLength(1);
    expect(await queue.isAlive(job.messageId)).toBe(true);
    expect(await queue.requeue(job)).toBe(false);

    const second = startBullWorker({ url: redis.url, prefix, concurrency: 5, lockDurationMs: 1_000 }, runOnce);
    closers.push(() => second.close());
    await eventually("the requeued job's end", async () =>
      runs === 2 && !(await queue.isAlive(job.messageId)) ? true : undefined,
    );
    // After its end, a requeue adds a job again.
    expect(await queue.requeue(job)).toBe(true);
    await eventually("the third job's end", async () =>
      runs === 3 && !(await queue.isAlive(job.messageId)) ? true : undefined,
    );
    await sleep(300);
    expect(runs).toBe(3);
  }, 30_000);

  it("wakes a deferred job that was queued again", async () => {
    const prefix = `wake-${randomUUID().slice(0, 8)}`;
    const queue = new BullReplyQueue(redis.url, prefix);
    closers.push(() => queue.close());
    const job = newJob();
    const starts: number[] = [];
    const worker = startBullWorker({ url: redis.url, prefix, concurrency: 5, lockDurationMs: 1_000 }, async () => {
      starts.push(Date.now());
      return starts.length === 1 ? "deferred" : "finished";
    });
    closers.push(() => worker.close());
    expect(await queue.requeue(job)).toBe(true);
    await eventually("the deferral", async () =>
      starts.length === 1 && (await queue.isAlive(job.messageId)) ? true : undefined,
    );
    await sleep(100);
    const wokenAt = Date.now();
    await queue.wake(job.messageId);
    await eventually("the second run", () => starts[1]);
    // Woken, not the recheck DEFER_RECHECK_MS (2 s) later.
    expect((starts[1] ?? 0) - wokenAt).toBeLessThan(1_000);
  }, 30_000);
});
