// Runs once when the server starts: the embedded mode starts its in-process worker here.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // V8 pretenures an allocation site whose objects have been surviving (as during a burst of
  // sends) and then allocates its objects straight in the old generation. Once replies stream,
  // those objects die young: the old generation filled in a second or two and a full collection
  // paused the web every one to three seconds (7-12 in a 30 s window of 1,000 replies, p99 119-124
  // ms; without pretenuring none, p99 33-60 ms; docs/benchmarks.md).
  const v8 = await import("node:v8");
  v8.setFlagsFromString("--no-allocation-site-pretenuring");
  const { startEmbeddedWorker } = await import("./lib/chat/embedded");
  await startEmbeddedWorker();
}
