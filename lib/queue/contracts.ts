import { z } from "zod";

// Shared by the producer (the send route) and the worker. Payloads carry ids only: never secrets,
// never the conversation (the worker reads that from Postgres).
export const CHAT_QUEUE = "chat";
export const GENERATE_REPLY_JOB = "generate-reply";

export const generateReplyJobSchema = z.object({
  messageId: z.uuid(),
  sessionId: z.uuid(),
  userId: z.uuid(),
  correlationId: z.uuid(),
  /** The W3C traceparent of the enqueue, when the producer traces (lib/tracing). */
  traceparent: z.string().max(128).optional(),
});
export type GenerateReplyJob = z.infer<typeof generateReplyJobSchema>;

/** What running a job came to. "deferred": an earlier reply of the session runs first; try again later. */
export type JobOutcome = "finished" | "deferred";

/** What the queue knows of a job beyond its payload. */
export interface JobMeta {
  /** When the job was added (ms since the epoch): its wait is measured from here. */
  queuedAt: number;
}

export type ReplyProcessor = (job: GenerateReplyJob, meta?: JobMeta) => Promise<JobOutcome>;

/** The queue as a scrape sees it: jobs by state, and how long the oldest waiting one has waited. */
export interface QueueStats {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** When the oldest waiting job was added (ms since the epoch); null when none waits. */
  oldestWaitingAt: number | null;
}

export interface ReplyQueue {
  readonly kind: "memory" | "bullmq";
  /** Adds the reply's first job; its job id is the reply's message id, so adding it twice starts one job. */
  enqueue(job: GenerateReplyJob): Promise<void>;
  /** A deferred job may run now (the reply before it in its session ended). */
  wake(messageId: string): Promise<void>;
  /**
   * Adds the job again unless one of the reply is waiting, delayed or running; of two requeues at
   * once, one adds. The new job never shares an id with an older job of the reply, which a worker
   * may still be running (its Redis lost it). True when it was added.
   */
  requeue(job: GenerateReplyJob): Promise<boolean>;
  /** Whether a job for this reply is waiting, delayed or running somewhere. */
  isAlive(messageId: string): Promise<boolean>;
  /** How many workers take jobs from this queue now (for /api/health). */
  workerCount(): Promise<number>;
  /** Job counts and the oldest waiting job, for the metrics. */
  stats(): Promise<QueueStats>;
  close(): Promise<void>;
}

export interface ReplyWorkerHandle {
  /** Stops taking jobs and waits for the running ones (or hands them back). */
  close(): Promise<void>;
  /** Whether it takes jobs now: not paused, not closing. */
  isRunning(): boolean;
}

/** How long a deferred job waits before it checks again when nobody wakes it. */
export const DEFER_RECHECK_MS = 2_000;
