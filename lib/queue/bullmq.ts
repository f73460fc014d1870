import "server-only";
import { randomBytes } from "node:crypto";
import { DelayedError, type Job, type JobJson, Queue, UnrecoverableError, Worker } from "bullmq";
import { describeError, log } from "../log";
import { newRedisClient, type RedisClient } from "../redis/connections";
import {
  CHAT_QUEUE,
  DEFER_RECHECK_MS,
  GENERATE_REPLY_JOB,
  type GenerateReplyJob,
  generateReplyJobSchema,
  type JobMeta,
  type JobOutcome,
  type QueueStats,
  type ReplyProcessor,
  type ReplyQueue,
  type ReplyWorkerHandle,
} from "./contracts";

const ALIVE_STATES = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);

// Job ids. A reply's first job has the reply's id (a send that runs twice adds one job); a job
// queued again has an id never used before, `<messageId>.<random>`. A worker may still be running
// the reply's old job when it is queued again: a job that a Redis restart lost (the loss check
// queues every running reply again at once) or that failed while its processor went on. Had the
// new job the old one's id and landed on that worker, BullMQ's lock renewals, kept by job id,
// would be dropped for the new job when the old one ended (its lock expires, it counts as stalled
// and runs again), and the old processor's stop would stop the new one (see startBullWorker).
// The reply's current job is named by BullMQ's deduplication key for the reply, which the add
// sets atomically (so two concurrent requeues add one job) and the job's end clears.
const requeueJobId = (messageId: string) => `${messageId}.${randomBytes(6).toString("hex")}`;

/** Deletes the reply's deduplication key if it still names `jobId` (a job that is not alive). */
const CLEAR_STALE_DEDUPLICATION = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class BullReplyQueue implements ReplyQueue {
  readonly kind = "bullmq";
  private readonly queue: Queue<GenerateReplyJob>;
  private readonly connection: RedisClient;

  /** `url`: env().redis, a Redis URL or a cluster's nodes; `prefix`: bullPrefixOf's. */
  constructor(url: string, prefix: string) {
    // The producer fails fast: a send answers 503 instead of hanging while Redis is away.
    const connection = newRedisClient(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
    });
    connection.on("error", () => {});
    this.connection = connection;
    this.queue = new Queue(CHAT_QUEUE, { connection, prefix });
    this.queue.on("error", () => {});
  }

  /**
   * With no offline queue, commands sent before the connection is up fail: wait (briefly) for it,
   * also after an outage. The connection comes back a moment after Redis does (its reconnect backs
   * off), while the worker's loss check, on the store's connection, may see Redis back first: its
   * requeues failed here, and with the loss marker set nobody queued the replies again until the
   * sweep found them quiet (~20 s).
   */
  private async ready(): Promise<Queue<GenerateReplyJob>> {
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis is not reachable")), 3_000);
    });
    try {
      await Promise.race([this.queue.waitUntilReady(), timeout]);
      if (this.connection.status !== "ready") {
        const connected = new Promise<void>((resolve) => {
          onReady = resolve;
          this.connection.once("ready", resolve);
        });
        await Promise.race([connected, timeout]);
      }
    } finally {
      clearTimeout(timer);
      if (onReady) this.connection.off("ready", onReady);
    }
    return this.queue;
  }

  /** Adds a job for the reply unless one is alive; the id of the reply's job after the add. */
  private async add(job: GenerateReplyJob, jobId: string): Promise<string | undefined> {
    const added = await (await this.ready()).add(GENERATE_REPLY_JOB, job, {
      jobId,
      deduplication: { id: job.messageId },
      // Retries of the model call happen inside the job; these cover a crash of the job itself.
      attempts: 3,
      backoff: { type: "exponential", delay: 1_000 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 24 * 3_600 },
    });
    return added.id;
  }

  /** The reply's job that is waiting, delayed or running, if any. */
  private async aliveJobId(messageId: string): Promise<string | null> {
    const queue = await this.ready();
    const current = await queue.getDeduplicationJobId(messageId);
    // The first job's id too: a job added before jobs had a deduplication key has none.
    const ids = current && current !== messageId ? [current, messageId] : [messageId];
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
    return ids.find((_, index) => ALIVE_STATES.has(states[index] ?? "unknown")) ?? null;
  }

  async enqueue(job: GenerateReplyJob): Promise<void> {
    await this.add(job, job.messageId);
  }

  async requeue(job: GenerateReplyJob): Promise<boolean> {
    if (await this.aliveJobId(job.messageId)) return false;
    for (let tries = 0; tries < 2; tries++) {
      const jobId = requeueJobId(job.messageId);
      const id = await this.add(job, jobId);
      if (id === jobId) return true;
      // The deduplication key named another job: a requeue elsewhere just added it (alive), or it
      // outlived its job's end (BullMQ clears it then; a key whose job is gone it drops itself).
      if (!id || ALIVE_STATES.has(await this.queue.getJobState(id))) return false;
      await this.connection.eval(CLEAR_STALE_DEDUPLICATION, 1, `${this.queue.keys.de}:${job.messageId}`, id);
    }
    return false;
  }

  async wake(messageId: string): Promise<void> {
    const queue = await this.ready();
    const job = await queue.getJob((await queue.getDeduplicationJobId(messageId)) ?? messageId);
    if (job && (await job.isDelayed())) await job.promote().catch(() => {});
  }

  async isAlive(messageId: string): Promise<boolean> {
    return (await this.aliveJobId(messageId)) !== null;
  }

  async workerCount(): Promise<number> {
    return (await this.ready()).getWorkersCount();
  }

  async stats(): Promise<QueueStats> {
    const queue = await this.ready();
    const [counts, oldest] = await Promise.all([
      queue.getJobCounts("waiting", "prioritized", "active", "delayed", "failed"),
      // The wait list's far end holds its oldest job: one LRANGE and one HGETALL.
      queue.getJobs(["wait"], 0, 0, true),
    ]);
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingAt: oldest[0]?.timestamp ?? null,
    };
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

/**
 * BullMQ's Worker, with the lock of every job it holds renewed: from the moment it takes the job,
 * and still after an older run of the same job id in this process ends.
 *
 * The Worker takes jobs one at a time (moveToActive, which locks the job for lockDuration) and
 * starts none of them while more are waiting: its main loop goes back to starting jobs only when
 * it finds the queue empty. Its lock manager renews the locks of started jobs only. Under a burst
 * of sends the jobs taken first waited longer than the 2 s lock for their start (at 1,500 replies
 * on a loaded machine: 189 jobs taken in 2.5 s, up to 3.8 s from take to start); the stalled check
 * moved them back to wait while this worker held them, and the worker took them again. The lock
 * manager keeps one entry per job id, so the older run's end dropped the newer run's renewals, and
 * that lock ran out in turn. Here a job is tracked as soon as it is taken (its start tracks it
 * again, with the same token), and the end of a run puts back the renewals of a newer take.
 */
export class ReplyWorker extends Worker<GenerateReplyJob> {
  /** The token of this process's newest take of each job id it holds. */
  private readonly holders = new Map<string, string>();

  protected override async nextJobFromJobData(
    jobData?: JobJson,
    jobId?: string,
    token?: string,
  ): Promise<Job<GenerateReplyJob>> {
    const job = await super.nextJobFromJobData(jobData, jobId, token);
    if (job?.id && token) {
      this.holders.set(job.id, token);
      this.lockManager.trackJob(job.id, token, job.processedOn ?? Date.now());
    }
    return job;
  }

  override async processJob(
    job: Job<GenerateReplyJob>,
    token: string,
    fetchNextCallback?: () => boolean,
  ): ReturnType<Worker<GenerateReplyJob>["processJob"]> {
    try {
      return await super.processJob(job, token, fetchNextCallback);
    } finally {
      // The run's end untracked its job id; a newer take of the same id is still this process's.
      const id = job.id ?? "";
      const newest = this.holders.get(id);
      if (newest === token) this.holders.delete(id);
      // A last renewal long ago: the next tick renews it.
      else if (newest) this.lockManager.trackJob(id, newest, 1);
    }
  }
}

/** How long a job waits for this process's run of the same reply to end before it is deferred. */
const LOCAL_WAIT_MS = 2_000;

/**
 * The BullMQ side of the worker: checks the payload, runs the plain processor, defers when told.
 * A process runs one job of a reply at a time. A reply queued again while this process still runs
 * its old job (whose Redis lost it) waits for that run to end: the old run stops on its own (its
 * next write finds the reply gone from the store), and two runs of one reply in one process would
 * share its entries by message id (the running replies: the old run's stop would end the new one,
 * which then ends its job with nobody writing the reply, until the sweep finds it quiet).
 */
export function startBullWorker(options: BullWorkerOptions, processor: ReplyProcessor): ReplyWorkerHandle {
  const connection = newRedisClient(options.url, { maxRetriesPerRequest: null });
  connection.on("error", () => {});
  // This process's runs by message id; each promise settles after its entry is gone.
  const runs = new Map<string, Promise<unknown>>();
  const run = (job: GenerateReplyJob, meta: JobMeta): Promise<JobOutcome> => {
    const running: Promise<JobOutcome> = processor(job, meta).finally(() => {
      if (runs.get(job.messageId) === running) runs.delete(job.messageId);
    });
    runs.set(job.messageId, running);
    return running;
  };
  /** Runs the job once no other run of its reply is left in this process, or defers it after LOCAL_WAIT_MS. */
  const runAlone = async (job: GenerateReplyJob, meta: JobMeta): Promise<JobOutcome> => {
    const deadline = Date.now() + LOCAL_WAIT_MS;
    for (let other = runs.get(job.messageId); other; other = runs.get(job.messageId)) {
      const left = deadline - Date.now();
      if (left <= 0) return "deferred";
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      });
      await Promise.race([other.catch(() => {}), late]).finally(() => clearTimeout(timer));
    }
    // In the same step as the check: two jobs of one reply that wait here cannot both start.
    return run(job, meta);
  };
  const worker = new ReplyWorker(
    CHAT_QUEUE,
    async (job: Job<GenerateReplyJob>, token?: string) => {
      const parsed = generateReplyJobSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`bad payload: ${parsed.error.message}`);
      // BullMQ keeps a failed job's message and stack in Redis: a driver's error names its SQL and
      // parameters, so the job fails with the words the logs use instead.
      const outcome = await runAlone(parsed.data, { queuedAt: job.timestamp }).catch((error: unknown) => {
        throw new Error(describeError(error));
      });
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
  worker.on("error", (error) => log.error("worker error", { error: describeError(error) }));
  return {
    close: async () => {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
    isRunning: () => worker.isRunning() && !worker.isPaused() && !worker.closing,
  };
}
