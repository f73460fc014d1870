// Runs once when the server starts: the guard of unroutable requests (lib/http/unroutable.ts), V8
// settings for a long-lived server, open SSE connections ended with `reconnect` on SIGTERM and when
// Redis is lost, and the embedded mode's in-process worker.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before any request: methods and paths Next must not see get the contract's JSON error.
  const { installUnroutableGuard } = await import("./lib/http/unroutable");
  installUnroutableGuard();
  const { tuneV8ForServing } = await import("./lib/ops/v8-flags");
  tuneV8ForServing();
  const { closeAllConnections, closeConnectionsOnShutdown } = await import("./lib/http/sse-connections");
  // Before the embedded worker's handler: listeners run in order, so the `reconnect` events are
  // written before that handler starts towards process.exit.
  closeConnectionsOnShutdown();
  const { env } = await import("./lib/env");
  const { REDIS_URL } = env();
  if (REDIS_URL) {
    const { onRedisLost } = await import("./lib/redis/connections");
    // No live event can arrive while Redis is away: tell the readers now, not at their next read.
    onRedisLost(() => closeAllConnections("store_unreachable"));
  }
  const { startEmbeddedWorker } = await import("./lib/worker/embedded");
  await startEmbeddedWorker();
}
