// npm run worker — the standalone worker (Railway, or any host): BullMQ jobs in, replies out.
// Thin on purpose: everything it does lives in lib/chat.

import { closeDb } from "../lib/db/client";
import { env } from "../lib/env";
import { log } from "../lib/log";
import { closeReplyQueue } from "../lib/queue/index";
import { closeRedisConnections } from "../lib/redis/connections";
import { setProcessRole } from "../lib/runtime";
import { closeChunkStore } from "../lib/streams/index";
import { flushTracing, startTracing } from "../lib/tracing/start";
import { startWorkerHttp, type WorkerHttp } from "../lib/worker/http";
import { startWorkerRuntime } from "../lib/worker/worker-runtime";

setProcessRole("worker");
const config = env();
if (config.mode !== "redis") {
  console.error(
    "The standalone worker needs REDIS_URL or REDIS_CLUSTER_NODES (without them, the web app runs the worker in-process).",
  );
  process.exit(1);
}

await startTracing("backchannel-worker");
const runtime = await startWorkerRuntime();
// /healthz, /metrics and Bull Board, when a port is given (Railway sets PORT).
let http: WorkerHttp | null = null;
if (config.workerHttpPort !== null) {
  const port = config.workerHttpPort;
  http = await startWorkerHttp(port, runtime.isTakingJobs).catch(() => {
    // A port named for the worker must be its own; PORT alone may be a web server's on this host
    // (a shell that runs both): the worker then runs without its HTTP server.
    if (config.WORKER_HTTP_PORT !== undefined) {
      console.error(`The worker's HTTP server could not listen on WORKER_HTTP_PORT ${port}.`);
      process.exit(1);
    }
    log.warn("worker http not started: PORT is taken (set WORKER_HTTP_PORT)", { port });
    return null;
  });
}
let stopping = false;

async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info("worker stopping", { signal });
  // /healthz answers 503 from here on: the runtime no longer takes jobs.
  await runtime.shutdown(config.SHUTDOWN_GRACE_MS);
  await http?.close();
  await closeReplyQueue();
  await closeChunkStore();
  await closeRedisConnections();
  await closeDb();
  // The spans of the jobs it just ended leave before the process does.
  await flushTracing();
  log.info("worker stopped", { signal });
  process.exit(0);
}

process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
