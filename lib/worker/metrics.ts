import "server-only";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { WAIT_BUCKETS } from "../ops/prom";

// The worker's series, on a registry of their own: the standalone worker serves it at /metrics
// (lib/worker/http.ts, with the process's default metrics and the queue gauges); in the embedded
// mode the web's /api/metrics serves it along with its own. Each is touched once per job, attempt
// or model call, never per token.
function createWorkerMetrics() {
  const registry = new Registry();
  const registers = [registry];
  const counted = { running: (): number => 0 };
  return {
    registry,
    /** Names what the running-replies gauge reads (the worker runtime's RunningReplies). */
    countRunning(count: () => number) {
      counted.running = count;
    },
    runningReplies: new Gauge({
      name: "backchannel_worker_running_replies",
      help: "Replies this process is writing now (at most WORKER_CONCURRENCY)",
      registers,
      collect() {
        this.set(counted.running());
      },
    }),
    queueWait: new Histogram({
      name: "backchannel_queue_wait_seconds",
      help: "From a job's creation to the start of its reply's attempt (includes waits behind earlier replies of the session)",
      buckets: WAIT_BUCKETS,
      registers,
    }),
    firstToken: new Histogram({
      name: "backchannel_model_first_token_seconds",
      help: "From the model call's start to its first text",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30],
      registers,
    }),
    modelCall: new Histogram({
      name: "backchannel_model_call_seconds",
      help: "Model calls (one per attempt), by outcome: completed, an error code, or why it was stopped",
      labelNames: ["outcome"],
      buckets: [0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 300],
      registers,
    }),
    tokens: new Counter({
      name: "backchannel_model_tokens_total",
      help: "Tokens of completed model calls, by direction (input, output)",
      labelNames: ["direction"],
      registers,
    }),
    replies: new Counter({
      name: "backchannel_replies_total",
      help: "Replies this worker ended, by final status (done, error, cancelled)",
      labelNames: ["status"],
      registers,
    }),
    retries: new Counter({
      name: "backchannel_reply_retries_total",
      help: "Attempts started again after a retryable model error, by error code",
      labelNames: ["code"],
      registers,
    }),
    continuations: new Counter({
      name: "backchannel_reply_continuations_total",
      help: "Attempts that continued the text of an earlier one, by reason",
      labelNames: ["reason"],
      registers,
    }),
    takeovers: new Counter({
      name: "backchannel_reply_takeovers_total",
      help: "Replies taken up at a later attempt: the one before ended without its worker (died, shut down, job lost)",
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

// On globalThis: Next bundles lib/ once for instrumentation (which starts the embedded worker) and
// once for the routes (/api/metrics reads it).
const cache = globalThis as unknown as { __backchannelWorkerMetrics?: WorkerMetrics };

export function workerMetrics(): WorkerMetrics {
  cache.__backchannelWorkerMetrics ??= createWorkerMetrics();
  return cache.__backchannelWorkerMetrics;
}
