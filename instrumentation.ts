// Runs once when the server starts: the embedded mode starts its in-process worker here.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startEmbeddedWorker } = await import("./lib/chat/embedded");
  await startEmbeddedWorker();
}
