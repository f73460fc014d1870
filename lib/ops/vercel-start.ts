import "server-only";
import { type Env, vercelStartProblem } from "../env";

/**
 * On Vercel (VERCEL set) a function is no place for the embedded mode: the process exits at once,
 * saying what to set (a thrown error would leave it answering every request with 500). Kept out of
 * instrumentation.ts, which Next also compiles for the Edge runtime, where process.exit is not.
 */
export function refuseEmbeddedOnVercel(config: Env): void {
  const problem = process.env.VERCEL ? vercelStartProblem(config) : null;
  if (!problem) return;
  console.error(problem);
  process.exit(1);
}
