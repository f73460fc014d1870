import "server-only";
import { env } from "../env";
import { createLlmProvider, llmConfigFromEnv } from "../llm";
import { describeError, log, withLogContext } from "../log";
import { getReplyQueue, type ReplyProcessor, startReplyWorker } from "../queue/index";
import { getReplyLifecycle } from "../replies/index";
import { ReplyCheckpoints } from "./checkpoints";
import { ChunkBatcher } from "./chunk-batcher";
import { type GenerationDeps, generateReply } from "./generate";
import { startGuestSweep } from "./guest-sweep";
import { workerMetrics } from "./metrics";
import { RunningReplies } from "./running";

export interface WorkerRuntime {
  deps: GenerationDeps;
  /** Whether it takes jobs now: false once its shutdown began, or while its queue worker is paused or closing. */
  isTakingJobs(): boolean;
  /** Stops taking jobs; running replies get `graceMs` to finish, then are handed back. */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * Starts writing replies in this process: the standalone worker in the Redis mode, or the web
 * process itself in the embedded mode. Both run the same `generateReply`.
 */
export async function startWorkerRuntime(): Promise<WorkerRuntime> {
  const config = env();
  const lifecycle = await getReplyLifecycle();
  const { store } = lifecycle;
  const queue = getReplyQueue();
  const llm = createLlmProvider(llmConfigFromEnv(config));
  const running = new RunningReplies();
  workerMetrics().countRunning(() => running.size);
  const deps: GenerationDeps = {
    lifecycle,
    llm,
    running,
    batcher: new ChunkBatcher(lifecycle, config.FLUSH_INTERVAL_MS, config.FLUSH_MAX_CHARS),
    checkpoints: new ReplyCheckpoints((writes) => lifecycle.checkpoint(writes), config.CHECKPOINT_MS),
    config: { maxAttempts: config.MAX_ATTEMPTS, retryBackoffMs: config.RETRY_BACKOFF_MS },
  };
  const control = store.subscribe(
    { kind: "control" },
    {
      onEvent: (event) =>
        event.type === "status" && event.status === "cancelled" && running.stop(event.messageId, "cancelled"),
    },
  );
  await control.ready;

  // A job's every line (its statements' too) names the reply it writes, whoever queued it.
  const processor: ReplyProcessor = (job, meta) =>
    withLogContext(
      { correlationId: job.correlationId, userId: job.userId, sessionId: job.sessionId, messageId: job.messageId },
      () => generateReply(job, deps, meta),
    );
  const worker = startReplyWorker(processor);
  // The embedded queue lives in memory: after a restart, pick up what the database says still runs.
  if (queue.kind === "memory") await lifecycle.queueAllRunning();

  // Replies whose job is gone are queued again: quiet ones on every sweep, and every running one
  // as soon as the store turns out to have lost its data (their jobs went with it).
  // A re-queue after a loss that fails (Postgres or the queue away at that moment) is tried again
  // on every loss check until one succeeds: the marker that told of the loss is already set again.
  let reconciling: Promise<unknown> = Promise.resolve();
  let lossPending = false;
  let lossInFlight = false;
  const reconcile = (quietMs: number) => {
    if (quietMs === 0) {
      lossPending = true;
      if (lossInFlight) return;
      lossInFlight = true;
    }
    reconciling = reconciling
      .then(async () => {
        await lifecycle.requeueOrphans(quietMs);
        if (quietMs === 0) lossPending = false;
      })
      .catch((error: unknown) => log.error("reconciliation failed", { error: describeError(error) }))
      .finally(() => {
        if (quietMs === 0) lossInFlight = false;
      });
  };
  // Workers started together would sweep in the same instant (and look up the same jobs twice):
  // each starts its sweeps at a random point of the interval.
  let sweep: NodeJS.Timeout | undefined;
  const sweepStart = setTimeout(() => {
    sweep = setInterval(() => reconcile(config.STUCK_AFTER_MS), config.SWEEP_INTERVAL_MS);
    sweep.unref();
  }, Math.random() * config.SWEEP_INTERVAL_MS);
  sweepStart.unref();
  // A worker that starts on a store that lost its data (or on a new one) reconciles at once.
  if (await store.checkLoss().catch(() => false)) reconcile(0);
  // On a Redis Cluster one master can lose its data while BullMQ's keeps the jobs: a reply of a
  // lost slot group keeps its job until its worker's next write is refused and the run lets go,
  // which may come after the loss check's re-queue. So a loss is re-queued once more at the next check.
  let lossEcho = false;
  const lossCheck = setInterval(() => {
    store.checkLoss().then(
      (lost) => {
        if (lost) log.warn("the chunk store lost its data: queueing every running reply again");
        if (lost || lossPending || lossEcho) reconcile(0);
        lossEcho = lost;
      },
      () => {},
    );
  }, config.STORE_CHECK_MS);
  lossCheck.unref();
  const stopGuestSweep = startGuestSweep(config.GUEST_TTL_DAYS, config.GUEST_SWEEP_INTERVAL_MS);
  log.info("worker started", { mode: config.mode, llm: llm.name, concurrency: config.WORKER_CONCURRENCY });

  let stopping = false;
  return {
    deps,
    isTakingJobs: () => !stopping && worker.isRunning(),
    shutdown: async (graceMs) => {
      stopping = true;
      clearTimeout(sweepStart);
      clearInterval(sweep);
      clearInterval(lossCheck);
      stopGuestSweep();
      const closing = worker.close();
      const handBack = setTimeout(() => running.stopAll("shutdown"), graceMs);
      await closing;
      clearTimeout(handBack);
      await deps.checkpoints.flush();
      deps.checkpoints.close();
      control.close();
    },
  };
}
