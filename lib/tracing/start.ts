import "server-only";
import { env } from "../env";
import { log } from "../log";
import { flushTracing } from "./index";

/**
 * Starts this process's tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set (once per process: the web
 * from instrumentation.ts, the worker from workers/index.ts); otherwise the SDK is not even loaded.
 * OTEL_SERVICE_NAME, when set, names the service instead of `fallbackName`.
 */
export async function startTracing(fallbackName: "backchannel-web" | "backchannel-worker"): Promise<boolean> {
  const { OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME } = env();
  if (!OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  const { startSdk } = await import("./sdk");
  const serviceName = OTEL_SERVICE_NAME ?? fallbackName;
  startSdk(serviceName);
  log.info("tracing started", { serviceName, endpoint: OTEL_EXPORTER_OTLP_ENDPOINT });
  return true;
}

export { flushTracing };

/** How long an exit waits for the last spans to leave. */
const EXIT_FLUSH_MS = 3_000;

/**
 * The web app's flush on SIGTERM and SIGINT. Next's own handler ends the process with
 * process.exit as soon as its server closed (a few ms when no request is open), before an export
 * started then could leave: from the signal on, process.exit first sends the spans not yet
 * exported (those of the SSE connections just ended too, and of the embedded worker's shutdown),
 * for at most EXIT_FLUSH_MS.
 */
export function flushTracingBeforeExit(): void {
  const onSignal = () => {
    const exit = process.exit.bind(process);
    let exiting = false;
    process.exit = ((code?: number | string | null) => {
      if (exiting) return;
      exiting = true;
      const late = new Promise((resolve) => setTimeout(resolve, EXIT_FLUSH_MS).unref());
      void Promise.race([flushTracing(), late]).finally(() => exit(code));
    }) as typeof process.exit;
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}
