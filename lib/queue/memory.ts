import { describeError, log } from "../log";
import {
  DEFER_RECHECK_MS,
  type GenerateReplyJob,
  type QueueStats,
  type ReplyProcessor,
  type ReplyQueue,
} from "./contracts";

interface Entry {
  job: GenerateReplyJob;
  state: "waiting" | "active" | "deferred";
  /** When it was enqueued (a deferral keeps it, as BullMQ keeps a job's timestamp). */
  queuedAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * The embedded queue: jobs run in this process, at most `concurrency` at once. It keeps the same
 * promises as the BullMQ queue (idempotent ids, deferral, wake) so one processor serves both.
 * A crash loses only this bookkeeping: the replies stay queued in the database and are enqueued
 * again at start.
 */
export class MemoryReplyQueue implements ReplyQueue {
  readonly kind = "memory";
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: string[] = [];
  private active = 0;
  private processor: ReplyProcessor | null = null;
  private closed = false;
  private readonly idle = new Set<() => void>();

  constructor(private readonly concurrency: number) {}

  /** Starts running jobs with this processor (the in-process worker). */
  process(processor: ReplyProcessor): void {
    this.processor = processor;
    this.pump();
  }

  async enqueue(job: GenerateReplyJob): Promise<void> {
    if (this.closed) throw new Error("queue closed");
    if (this.entries.has(job.messageId)) return;
    this.entries.set(job.messageId, { job, state: "waiting", queuedAt: Date.now() });
    this.waiting.push(job.messageId);
    this.pump();
  }

  async requeue(job: GenerateReplyJob): Promise<boolean> {
    if (this.entries.has(job.messageId)) return false;
    await this.enqueue(job);
    return true;
  }

  async wake(messageId: string): Promise<void> {
    const entry = this.entries.get(messageId);
    if (entry?.state !== "deferred") return;
    clearTimeout(entry.timer);
    entry.state = "waiting";
    this.waiting.push(messageId);
    this.pump();
  }

  async isAlive(messageId: string): Promise<boolean> {
    return this.entries.has(messageId);
  }

  async workerCount(): Promise<number> {
    return this.processor && !this.closed ? 1 : 0;
  }

  async stats(): Promise<QueueStats> {
    const stats: QueueStats = { waiting: 0, active: 0, delayed: 0, failed: 0, oldestWaitingAt: null };
    for (const entry of this.entries.values()) {
      if (entry.state === "active") stats.active++;
      else if (entry.state === "deferred") stats.delayed++;
      else {
        stats.waiting++;
        stats.oldestWaitingAt = Math.min(stats.oldestWaitingAt ?? entry.queuedAt, entry.queuedAt);
      }
    }
    return stats;
  }

  /** Whether jobs run: a processor is set and the queue is not closed. */
  isRunning(): boolean {
    return this.processor !== null && !this.closed;
  }

  private pump() {
    while (this.processor && !this.closed && this.active < this.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift();
      const entry = id ? this.entries.get(id) : undefined;
      if (entry?.state !== "waiting") continue;
      entry.state = "active";
      this.active++;
      void this.run(entry, this.processor);
    }
    if (this.active === 0) for (const resolve of this.idle) resolve();
  }

  private async run(entry: Entry, processor: ReplyProcessor) {
    let outcome: "finished" | "deferred" = "finished";
    try {
      outcome = await processor(entry.job, { queuedAt: entry.queuedAt });
    } catch (error) {
      log.error("job failed", { messageId: entry.job.messageId, error: describeError(error) });
    }
    this.active--;
    if (outcome === "deferred" && !this.closed) {
      entry.state = "deferred";
      entry.timer = setTimeout(() => void this.wake(entry.job.messageId), DEFER_RECHECK_MS);
      entry.timer.unref();
    } else {
      this.entries.delete(entry.job.messageId);
    }
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }
}
