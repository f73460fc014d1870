// npx tsx bench/ab.ts <other checkout> [count=300]: this checkout's app against another's (a git
// worktree of an older commit, built with `npm run build`), both running at once, one operation at
// a time, alternating A, B, B, A… A shared machine drifts by a quarter over minutes; here the drift
// hits both alike, so a few percent of CPU per operation can be told from noise.
// Prints, per system: CPU ms per operation in the web and the worker (from /proc), and latency, for
//   send → 202 (each with its 1-token reply), send → first chunk at an open stream, and a resume.
import path from "node:path";
import { type RunningApp, startApp } from "../tests/support/app";
import { APP_ENV } from "./app-env";
import { cpuPerOperation } from "./cpu-per-op";

const [otherDir, countArg = "300"] = process.argv.slice(2);
if (!otherDir) {
  console.error("usage: npx tsx bench/ab.ts <other checkout, built> [count]");
  process.exit(2);
}
const otherApp: { startApp: typeof startApp } = await import(path.resolve(otherDir, "tests/support/app.ts"));

const apps: Array<{ name: string; app: RunningApp }> = [];
try {
  apps.push({ name: `A (${path.basename(path.resolve(otherDir))})`, app: await otherApp.startApp("redis", APP_ENV) });
  apps.push({ name: "B (this checkout)", app: await startApp("redis", APP_ENV) });
  await cpuPerOperation(apps, Number(countArg));
} finally {
  await Promise.all(apps.map(({ app }) => app.stop()));
}
process.exit();
