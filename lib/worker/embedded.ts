import "server-only";
import { closeDb } from "../db/client";
import { env } from "../env";
import { log } from "../log";
import { startWorkerRuntime, type WorkerRuntime } from "./worker-runtime";

const state = globalThis as unknown as { __backchannelEmbedded?: Promise<WorkerRuntime> };

/**
 * In the embedded mode (no REDIS_URL) the web process writes the replies itself. Started once from
 * instrumentation.ts; on SIGTERM running replies are handed back (they restart after the next start).
 */
export function startEmbeddedWorker(): Promise<WorkerRuntime> | null {
  // Never in a serverless function, whatever the mode (instrumentation.ts refuses the embedded mode
  // there already): nothing of the worker, its sweeps included, belongs in a Vercel function.
  if (env().mode !== "embedded" || process.env.VERCEL) return null;
  if (!state.__backchannelEmbedded) {
    state.__backchannelEmbedded = startWorkerRuntime();
    const stop = async (signal: string) => {
      log.info("embedded worker stopping", { signal });
      const runtime = await state.__backchannelEmbedded;
      await runtime?.shutdown(2_000);
      await closeDb();
      process.exit(0);
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
  }
  return state.__backchannelEmbedded;
}
