import { randomUUID } from "node:crypto";
import { type Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ReplyWorker } from "../../lib/queue/bullmq";
import { CHAT_QUEUE, type GenerateReplyJob } from "../../lib/queue/contracts";
import { type OwnRedis, startOwnRedis } from "../support/redis-server";

// The lock renewals of the worker's BullMQ Worker (lib/queue/bullmq.ts ReplyWorker), on a
// redis-server of this file's own, with the production lock (2 s, renewed every 500 ms). BullMQ
// renews the locks of the jobs whose processor runs, kept by job id. Under a burst of sends its
// main loop held jobs it had taken for seconds before starting them, unrenewed: their locks ran out
// and the stalled check took them back from a live worker, which took them again; the older run's
// end then dropped the newer take's renewals. Both are held here without a timing window: a job is
// taken by hand (as the main loop takes it) while the worker is busy, and a job is made to look
// stalled by deleting its lock. Each test waits for a renewal event and checks whose lock it is.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const LOCK_MS = 2_000;

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

async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Run {
  id: string;
  token: string;
  release: () => void;
}

/** A worker whose processor runs until the test releases it; every run and renewal recorded. */
function start(concurrency: number) {
  const prefix = `lock-${randomUUID().slice(0, 8)}`;
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue<GenerateReplyJob>(CHAT_QUEUE, { connection: queueConnection, prefix });
  const runs: Run[] = [];
  /** Job ids in each renewal that succeeded, and the runs that had ended before it (by token). */
  const renewals: Array<{ ids: string[]; ended: string[] }> = [];
  const ended: string[] = [];
  const worker = new (class extends ReplyWorker {
    override async processJob(job: Job<GenerateReplyJob>, token: string, fetchNextCallback?: () => boolean) {
      try {
        return await super.processJob(job, token, fetchNextCallback);
      } finally {
        ended.push(token);
      }
    }
  })(
    CHAT_QUEUE,
    (job: Job<GenerateReplyJob>, token?: string) =>
      new Promise<void>((resolve) => {
        runs.push({ id: job.id ?? "", token: token ?? "", release: resolve });
      }),
    {
      connection,
      prefix,
      concurrency,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS / 2,
      maxStalledCount: 3,
    },
  );
  // Renewals of a lock that is gone are errors of the worker; without a listener they would throw.
  worker.on("error", () => {});
  worker.on("locksRenewed", ({ jobIds }) => renewals.push({ ids: jobIds, ended: [...ended] }));
  const lockOf = (id: string) => connection.get(`${prefix}:${CHAT_QUEUE}:${id}:lock`);
  closers.push(async () => {
    for (const run of runs) run.release();
    await worker.close();
    await queue.close();
    connection.disconnect();
    queueConnection.disconnect();
  });
  return { queue, worker, runs, renewals, ended, lockOf, connection, prefix };
}

describe("the worker's lock renewals", () => {
  it("renews a job it has taken before the job's processor starts", async () => {
    // Concurrency 1 and a running job: the main loop takes nothing more, so the job taken here by
    // hand stays taken and not started, as the jobs the main loop took in a burst did.
    const { queue, worker, runs, renewals, lockOf } = start(1);
    await queue.add("generate-reply", newJob(), { jobId: "busy" });
    await eventually("the first job's start", () => runs[0]);
    await queue.add("generate-reply", newJob(), { jobId: "taken" });
    const token = `${worker.id}:by-hand`;
    const taken = await worker.getNextJob(token, { block: false });
    expect(taken?.id).toBe("taken");

    await eventually("a renewal of the taken job", () => renewals.find((r) => r.ids.includes("taken")));
    expect(await lockOf("taken")).toBe(token);
    expect(await queue.getJobState("taken")).toBe("active");
    expect(runs.map((run) => run.id)).toEqual(["busy"]);
  });

  it("keeps renewing a newer take of a job id after the older run of it ends", async () => {
    const { queue, runs, renewals, ended, lockOf, connection, prefix } = start(2);
    await queue.add("generate-reply", newJob(), { jobId: "twice" });
    const older = await eventually("the first run", () => runs[0]);
    // The older run's lock is lost (as a stalled check finds it after a pause of the worker): the
    // stalled check moves the job back to wait and this worker takes it again.
    await connection.del(`${prefix}:${CHAT_QUEUE}:twice:lock`);
    const newer = await eventually("the second run", () => runs[1]);
    expect(newer.id).toBe("twice");
    expect(newer.token).not.toBe(older.token);

    older.release();
    await eventually("the older run's end", () => (ended.includes(older.token) ? true : undefined));
    // A renewal after the older run ended, of the newer take's lock, and no third run.
    await eventually("a renewal after the older run's end", () =>
      renewals.find((r) => r.ended.includes(older.token) && r.ids.includes("twice")),
    );
    expect(await lockOf("twice")).toBe(newer.token);
    expect(await queue.getJobState("twice")).toBe("active");
    expect(runs).toHaveLength(2);
  });
});
