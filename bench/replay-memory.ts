// npx tsx bench/replay-memory.ts [--runs=3] [--modes=embedded,redis]: issue 13's replay memory probe
// as figures. Per mode one app (its web process started with GC_ON_SIGNAL), one guest with 200 long
// replies, then `runs` rounds (the first after a warm-up of 2 streams, so it shows what a cold
// process pays once; each later one after the round before it) of: 40 streams whose `?cursors=` name all 200, opened on sockets that
// are never read, held 5 s, closed. Per round: the web RSS baseline (after a full collection), the
// most it rose above it while the streams were open, how far above it was 10 s after they closed
// with no help, and after full collections. tests/api/replay-memory.test.ts checks the bound
// (peak under 100 MB, back within 25 MB); this writes bench/results/<date>-replay-memory.json and
// prints the table that docs/benchmarks.md ("A replay's memory") keeps.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GC_ON_SIGNAL, type Mode, startApp } from "../tests/support/app";
import { ApiClient } from "../tests/support/client";
import { measureUnreadReplays, type ReplayMemoryFigures, seedLongReplies } from "../tests/support/replay-probe";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const runs = Number(arg("runs") ?? 3);
const modes = (arg("modes") ?? "embedded,redis").split(",") as Mode[];
const REPLIES = 200;
const CONNECTIONS = 40;

const results: Record<string, ReplayMemoryFigures[]> = {};
const loadStart = os.loadavg()[0] ?? 0;
const loadNow = () => os.loadavg()[0] ?? 0;
for (const mode of modes) {
  const app = await startApp(
    mode,
    { RATE_LIMIT_SENDS_PER_MINUTE: "100000", MAX_RUNNING_REPLIES_PER_USER: "1000", MAX_SSE_PER_USER: "100" },
    { webNodeArgs: GC_ON_SIGNAL },
  );
  try {
    const client = await ApiClient.guest(app.baseUrl);
    const { ids } = await seedLongReplies(client, REPLIES);
    results[mode] = [];
    for (let run = 0; run < runs; run++) {
      const warmConnections = run === 0 ? 2 : CONNECTIONS;
      const figures = await measureUnreadReplays(app, client, ids, {
        connections: CONNECTIONS,
        warmConnections,
        collect: true,
      });
      console.log(`${mode} run ${run + 1}: ${JSON.stringify(figures)}`);
      results[mode].push(figures);
    }
  } finally {
    await app.stop();
  }
}

const list = (values: Array<number | null>, sign = "") =>
  values.map((v) => (v === null ? "–" : v >= 0 ? `${sign}${v}` : String(v))).join(" / ");
const lines = [
  `| mode | baseline MiB | peak, MiB above it | 10 s after close | after full collections |`,
  `|---|--:|--:|--:|--:|`,
  ...Object.entries(results).map(
    ([mode, figures]) =>
      `| ${mode} | ${list(figures.map((f) => f.baseline))} | ${list(
        figures.map((f) => f.peak),
        "+",
      )} | ${list(
        figures.map((f) => f.after),
        "+",
      )} | ${list(
        figures.map((f) => f.afterCollection),
        "+",
      )} |`,
  ),
];
console.log(`\n${lines.join("\n")}\n1-minute load average ${loadStart.toFixed(1)} -> ${loadNow().toFixed(1)}`);
const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
const dir = path.join(import.meta.dirname, "results");
mkdirSync(dir, { recursive: true });
writeFileSync(
  path.join(dir, `${stamp}-replay-memory.json`),
  `${JSON.stringify({ replies: REPLIES, connections: CONNECTIONS, loadAverage: [loadStart, loadNow()], results }, null, 2)}\n`,
);
