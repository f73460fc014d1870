// Runs once when the server starts: V8 settings for a long-lived server, and the embedded mode's
// in-process worker.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { tuneV8ForServing } = await import("./lib/ops/v8-flags");
  tuneV8ForServing();
  const { startEmbeddedWorker } = await import("./lib/chat/embedded");
  await startEmbeddedWorker();
}
