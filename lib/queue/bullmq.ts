import "server-only";
import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import {
  CHAT_QUEUE,
  DEFER_RECHECK_MS,
  GENERATE_REPLY_JOB,
  type GenerateReplyJob,
  generateReplyJobSchema,
  type ReplyProcessor,
  type ReplyQueue,
  type ReplyWorkerHandle,
} from "./contracts";

const ALIVE_STATES = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

export class BullReplyQueue implements ReplyQueue {
  readonly kind = "bullmq";
  private readonly queue: Queue<GenerateReplyJob>;

  constructor(url: string, prefix: string) {
    // The producer fails fast: a send answers 503 instead of hanging while Redis is away.
    const connection = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
    connection.on("error", () => {});
    this.queue = new Queue(CHAT_QUEUE, { connection, prefix });
    this.queue.on("error", () => {});
  }

  /** With no offline queue, commands sent before the connection is up fail: wait (briefly) for it. */
  private async ready(): Promise<Queue<GenerateReplyJob>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis is not reachable")), 3_000);
    });
    try {
      await Promise.race([this.queue.waitUntilReady(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.queue;
  }

  async enqueue(job: GenerateReplyJob): Promise<void> {
    await (await this.ready()).add(GENERATE_REPLY_JOB, job, {
      jobId: job.messageId,
      // Retries of the model call happen inside the job; these cover a crash of the job itself.
      attempts: 3,
      backoff: { type: "exponential", delay: 1_000 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 24 * 3_600 },
    });
  }

  async requeue(job: GenerateReplyJob): Promise<boolean> {
    const queue = await this.ready();
    const state = await queue.getJobState(job.messageId);
    if (ALIVE_STATES.has(state)) return false;
    // An ended job of the same id would make the add a no-op (job ids are unique): drop it first.
    if (state === "completed" || state === "failed") await queue.remove(job.messageId).catch(() => 0);
    await this.enqueue(job);
    return true;
  }

  async wake(messageId: string): Promise<void> {
    const job = await (await this.ready()).getJob(messageId);
    if (job && (await job.isDelayed())) await job.promote().catch(() => {});
  }

  async isAlive(messageId: string): Promise<boolean> {
    return ALIVE_STATES.has(await (await this.ready()).getJobState(messageId));
  }

  async workerCount(): Promise<number> {
    return (await this.ready()).getWorkersCount();
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export interface BullWorkerOptions {
  url: string;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
}

/** The BullMQ side of the worker: checks the payload, runs the plain processor, defers when told. */
export function startBullWorker(options: BullWorkerOptions, processor: ReplyProcessor): ReplyWorkerHandle {
  const connection = new Redis(options.url, { maxRetriesPerRequest: null });
  connection.on("error", () => {});
  const worker = new Worker<GenerateReplyJob>(
    CHAT_QUEUE,
    async (job: Job<GenerateReplyJob>, token?: string) => {
      const parsed = generateReplyJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`bad payload: ${parsed.error.message}`);
      const outcome = await processor(parsed.data);
      if (outcome === "deferred") {
        await job.moveToDelayed(Date.now() + DEFER_RECHECK_MS, token);
        throw new DelayedError();
      }
    },
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      // A job whose worker died moves on once its lock expires and a stalled check has seen it
      // twice: at most lockDuration + stalledInterval after the death (3 s at the defaults; BullMQ's
      // own 30 s + 30 s is a minute of a frozen reply). The cost is one lock renewal call per
      // worker every lockDuration / 2 (all its jobs in one script) and one stalled check per
      // stalledInterval for the whole queue (the check takes a shared key first).
      lockDuration: options.lockDurationMs,
      stalledInterval: Math.max(500, Math.floor(options.lockDurationMs / 2)),
      // After this many deaths the job fails; the reconciliation queues the reply again, and its
      // attempts (each takeover is one) bound how often.
      maxStalledCount: 3,
    },
  );
  worker.on("error", (error) =>
    console.error(JSON.stringify({ level: "error", msg: "worker error", error: String(error) })),
  );
  return {
    close: async () => {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
