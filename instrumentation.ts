// Runs once when the server starts: the guard of unroutable requests (lib/http/unroutable.ts), V8
// settings for a long-lived server, open SSE connections ended with `reconnect` on SIGTERM and when
// Redis is lost, traces, and the embedded mode's in-process worker. On Vercel the embedded mode
// refuses to start (lib/ops/vercel-start.ts).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env } = await import("./lib/env");
  const config = env();
  const { refuseEmbeddedOnVercel } = await import("./lib/ops/vercel-start");
  refuseEmbeddedOnVercel(config);
  // Before any request: methods and paths Next must not see get the contract's JSON error.
  const { installUnroutableGuard } = await import("./lib/http/unroutable");
  installUnroutableGuard();
  const { tuneV8ForServing } = await import("./lib/ops/v8-flags");
  tuneV8ForServing();
  const { closeAllConnections, closeConnectionsOnShutdown } = await import("./lib/http/sse-connections");
  // Before the embedded worker's handler: listeners run in order, so the `reconnect` events are
  // written before that handler starts towards process.exit.
  closeConnectionsOnShutdown();
  // Traces, when OTEL_EXPORTER_OTLP_ENDPOINT is set: the last spans leave before the process exits.
  const { flushTracingBeforeExit, startTracing } = await import("./lib/tracing/start");
  if (await startTracing("backchannel-web")) flushTracingBeforeExit();
  if (config.redis) {
    const { onRedisLost } = await import("./lib/redis/connections");
    // No live event can arrive while Redis is away: tell the readers now, not at their next read.
    onRedisLost(() => closeAllConnections("store_unreachable"));
  }
  const { startEmbeddedWorker } = await import("./lib/worker/embedded");
  await startEmbeddedWorker();
}
