// npm run worker — the standalone worker (Railway, or any host): BullMQ jobs in, replies out.
// Thin on purpose: everything it does lives in lib/chat.

import { closeDb } from "../lib/db/client";
import { env } from "../lib/env";
import { log } from "../lib/log";
import { closeReplyQueue } from "../lib/queue/index";
import { closeRedisConnections } from "../lib/redis/connections";
import { setProcessRole } from "../lib/runtime";
import { closeChunkStore } from "../lib/streams/index";
import { startWorkerRuntime } from "../lib/worker/worker-runtime";

setProcessRole("worker");
const config = env();
if (config.mode !== "redis") {
  console.error("The standalone worker needs REDIS_URL (without it, the web app runs the worker in-process).");
  process.exit(1);
}

const runtime = await startWorkerRuntime();
let stopping = false;

async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info("worker stopping", { signal });
  await runtime.shutdown(config.SHUTDOWN_GRACE_MS);
  await closeReplyQueue();
  await closeChunkStore();
  await closeRedisConnections();
  await closeDb();
  log.info("worker stopped", { signal });
  process.exit(0);
}

process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
