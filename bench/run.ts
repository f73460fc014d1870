// npm run bench [-- --full]: how fast Backchannel is on this machine, side by side with a bare
// Node SSE server (the floor; for the send rows also the durable floor, which commits a send to
// Postgres and Redis before its 202) and the npm package resumable-stream, in one run. This process is
// the load: it starts every server as a child process and drives each only through HTTP/SSE.
// Quick profile: under 4 minutes (the takeover's 3 kills take about one); full: about 20 on a busy
// machine (19.9 min at load average 4 to 7), and it rewrites docs/benchmarks.md.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Redis } from "ioredis";
import { type RunningApp, startApp } from "../tests/support/app";
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from "../tests/support/services";
import { APP_ENV, PRODUCTION_TIMINGS } from "./app-env";
import { chartSvg, type Panel } from "./chart";
import { keptSectionsOf } from "./kept-sections";
import { latestLockCost, lockCostLines } from "./lock-cost-report";
import { type Peer, type PeerKind, startPeer as startSharedPeer, stopPeer } from "./peers/start";
import {
  commandCount,
  cpuSeconds,
  delivery,
  firstChunkLatency,
  type GcStats,
  gcDelta,
  gcStats,
  localRedisPid,
  pidsNamed,
  resume,
  rssSampler,
  type System,
  sendLatency,
} from "./scenarios";
import { type Summary, summarize } from "./stats";
import { takeover } from "./takeover";

// --levels=1000,1500 runs only the delivery levels (floor, then Backchannel), and writes no docs.
const levelsOnly = process.argv
  .find((arg) => arg.startsWith("--levels="))
  ?.slice("--levels=".length)
  .split(",")
  .map(Number);
const full = process.argv.includes("--full") || process.env.BENCH_PROFILE === "full";
const profile = levelsOnly ? "levels" : full ? "full" : "quick";
const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const FLUSH_MS = 50; // the app's FLUSH_INTERVAL_MS default; the peers batch at the same rate
const P = full
  ? {
      sendsOne: 200,
      sendsFifty: 10,
      firstChunk: 100,
      readerTokens: 600,
      levels: [100, 300, 1000, 1500, 2000],
      levelTokens: 1800,
      resumeCount: 80,
      takeoverRounds: 6,
      embedded: true,
    }
  : {
      sendsOne: 60,
      sendsFifty: 4,
      firstChunk: 30,
      readerTokens: 300,
      levels: [100, 1000],
      levelTokens: 720,
      resumeCount: 12,
      takeoverRounds: 3,
      embedded: false,
    };
const TPS = 60;
const RESUME = { tokens: 4000, tps: 1000, awayMs: 500 };
// 10 replies of 15 s per round: each is mid-way when its worker dies, whatever the survivor's start takes.
const TAKEOVER = { replies: 10, tokens: 900, tps: TPS, lockMs: Number(APP_ENV.WORKER_LOCK_MS) };
const takeoverRow = "takeover: worker SIGKILL mid-reply → first chunk of the continued attempt";

interface Row {
  scenario: string;
  system: string;
  summary: Summary;
  note?: string;
}
const rows: Row[] = [];
interface CpuRow {
  label: string;
  replies: number;
  /** % of one core per process while the replies streamed. */
  processes: Record<string, number>;
  total: number;
  load: number;
}
const cpuRows: CpuRow[] = [];
const extras: Record<string, unknown> = {};
const startedAt = Date.now();
// The machine is shared: its load at the start and the end say how much of it this run had.
const loadAtStart = os.loadavg()[0] ?? Number.NaN;
/** The commit measured, and whether the app's files differ from it. */
function measuredCommit(): string {
  const git = (args: string[]) =>
    execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const dirty = git(["status", "--porcelain", "--", "lib", "app", "pages", "components", "workers"]);
    return `${git(["rev-parse", "--short", "HEAD"])}${dirty ? " with uncommitted app changes" : ""}`;
  } catch {
    return "a tree outside git";
  }
}
const log = (line: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`);

function record(scenario: string, system: string, samples: number[], note?: string) {
  const summary = summarize(samples);
  rows.push({ scenario, system, summary, note });
  log(
    `${scenario} · ${system}: p50 ${summary.p50} p99 ${summary.p99} max ${summary.max} (n=${summary.n})${note ? ` ${note}` : ""}`,
  );
  return summary;
}

// ---------------------------------------------------------------- the peer servers

const startPeer = (kind: PeerKind) =>
  startSharedPeer(kind, { REDIS_URL, FLUSH_MS: String(FLUSH_MS), DATABASE_URL: TEST_POSTGRES_URL });

// ---------------------------------------------------------------- scenarios, per system

const names: Record<string, string> = { app: "Backchannel", floor: "floor", resumable: "resumable-stream" };
/** The floor whose sends are durable (bench/peers/server.ts, PEER_KIND=durable): send rows only. */
const DURABLE = "durable floor";

/** CPU per send at 50 concurrent senders (each send with its 1-token reply), ms, by process. */
interface SendCpu {
  label: string;
  perSend: Record<string, number>;
  total: number;
}
const sendCpu: SendCpu[] = [];

/** `processes`: the system's own processes by name, read when asked (Postgres's come and go). */
async function sendScenarios(system: System, label: string, processes: Record<string, () => number[]>) {
  await sendLatency(system, 4, 5); // warm-up
  record("send → 202, 1 sender", label, await sendLatency(system, 1, P.sendsOne));
  const cpuNow = () =>
    Object.fromEntries(
      Object.entries(processes).map(([name, pids]) => [
        name,
        new Map(pids().map((pid) => [pid, cpuSeconds(pid)] as const)),
      ]),
    );
  // From the first send to the last 202: the 1-token replies are written meanwhile, so their CPU
  // counts (all but the last few); the guests' sign-ins before and the status polls after do not.
  let before: ReturnType<typeof cpuNow> = {};
  let after: ReturnType<typeof cpuNow> = {};
  const fifty = await sendLatency(system, 50, P.sendsFifty, {
    started: () => {
      before = cpuNow();
    },
    answered: () => {
      after = cpuNow();
    },
  });
  const perSend: Record<string, number> = {};
  for (const [name, now] of Object.entries(after)) {
    let seconds = 0;
    for (const [pid, value] of now) seconds += value - (before[name]?.get(pid) ?? 0);
    perSend[name] = Math.round((seconds * 1000 * 100) / fifty.length) / 100;
  }
  const total = Math.round(Object.values(perSend).reduce((sum, value) => sum + value, 0) * 100) / 100;
  sendCpu.push({ label, perSend, total });
  record("send → 202, 50 concurrent senders", label, fifty);
  log(`  CPU ms per send (with its reply): ${JSON.stringify(perSend)}, total ${total}`);
  record("send → first chunk (zero-delay model)", label, await firstChunkLatency(system, P.firstChunk));
}

async function readersScenario(system: System, label: string, readers: number) {
  const result = await delivery(system, { replies: 1, readersPerReply: readers, tokens: P.readerTokens, tps: TPS });
  record(
    `delivery, 1 reply × ${readers} readers`,
    label,
    result.samples,
    result.complete ? "" : `INCOMPLETE ${result.problems[0]}`,
  );
}

/**
 * `processes`: the system's own processes, whose CPU is counted while the replies stream (from the
 * last send to the last end; the floor's one process, or the app's web, worker and Redis server).
 */
async function levelScenario(
  system: System,
  label: string,
  replies: number,
  processes: Record<string, number | undefined>,
  app?: RunningApp,
  redis?: Redis,
) {
  const sampler = rssSampler(Object.fromEntries(Object.entries(processes).filter(([, pid]) => pid)));
  // This process's own stalls (its GC, its parsing) count as latency for whatever it reads.
  const loadDelay = monitorEventLoopDelay({ resolution: 5 });
  loadDelay.enable();
  const before = redis ? await commandCount(redis) : 0;
  let loadCpu = process.cpuUsage();
  let streamingFrom = performance.now();
  // The web's collections while the replies stream (a full one pauses every reader at once).
  let gcBefore: Promise<GcStats> | null = null;
  const result = await delivery(system, {
    replies,
    readersPerReply: 1,
    tokens: P.levelTokens,
    tps: TPS,
    onRunning: () => {
      sampler.restartCpu();
      loadCpu = process.cpuUsage();
      streamingFrom = performance.now();
      if (app) gcBefore = gcStats(app.baseUrl);
    },
  });
  const webGc = gcBefore && app ? gcDelta(await gcBefore, await gcStats(app.baseUrl)) : null;
  const commands = redis ? (await commandCount(redis)) - before : 0;
  const usage = sampler.stop();
  const loadUsage = process.cpuUsage(loadCpu);
  const loadPercent = Math.round((loadUsage.user + loadUsage.system) / 10 / (performance.now() - streamingFrom));
  const cpuTotal = Object.values(usage.cpu).reduce((sum, value) => sum + value, 0);
  cpuRows.push({ label, replies, processes: usage.cpu, total: cpuTotal, load: loadPercent });
  log(
    `  CPU % of a core while streaming: ${JSON.stringify(usage.cpu)}, total ${cpuTotal}; the load process ${loadPercent}`,
  );
  loadDelay.disable();
  const rss = usage?.rss;
  const notes: string[] = [
    `load stalls p99 ${(loadDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loadDelay.max / 1e6).toFixed(0)} ms`,
  ];
  if (webGc)
    notes.push(`web GC: ${webGc.major} full (${webGc.majorMs} ms), ${webGc.minor} young (${webGc.minorMs} ms)`);
  if (result.peak < replies) notes.push(`peak ${result.peak} at once`);
  if (!result.complete) notes.push(`INCOMPLETE ${result.problems[0]}`);
  const summary = record(`delivery, ${replies} replies × 1 reader`, label, result.samples, notes.join("; "));
  if (app && redis && rss) {
    const perToken = commands / (replies * P.levelTokens);
    extras[`${label} at ${replies} replies`] = {
      redisCommands: commands,
      commandsPerToken: Math.round(perToken * 1000) / 1000,
      rssMiB: { web: rss.web, worker: rss.worker },
      webGc,
      cpuPercent: usage.cpu,
      peak: result.peak,
    };
    log(`  Redis commands per token ${perToken.toFixed(3)}; RSS MiB web ${rss.web}, worker ${rss.worker}`);
  }
  return { summary, complete: result.complete, peak: result.peak };
}

async function resumeScenario(system: System, label: string) {
  // Not measured: a first round warms each system's resume path (the send rows have theirs).
  await resume(system, { count: 12, ...RESUME });
  const result = await resume(system, { count: P.resumeCount, ...RESUME });
  const missed = result.missedChunks.length
    ? Math.round(result.missedChunks.reduce((a, b) => a + b) / result.missedChunks.length)
    : 0;
  record(
    `resume halfway through ${RESUME.tokens} tokens → last missed byte`,
    label,
    result.samples,
    `${missed} chunks missed on average${result.complete ? "" : `; INCOMPLETE ${result.problems[0]}`}`,
  );
}

/** Last of the Redis mode's rows: it kills workers (the app's own first; the last survivor is stopped). */
async function takeoverScenario(running: RunningApp) {
  const result = await takeover(running, { rounds: P.takeoverRounds, ...TAKEOVER });
  const notes = [
    `${P.takeoverRounds} kills, ${result.takenOver} of ${result.replies} replies taken over`,
    `${result.whole} of ${result.replies} whole (reader text = stored = the uninterrupted reply; no gap, double or reset)`,
    `${result.chunksRedone} chunks the reader had were redone`,
  ];
  if (result.problems.length) notes.push(`PROBLEMS ${result.problems.slice(0, 3).join(" | ")}`);
  extras.takeover = { ...result, rounds: P.takeoverRounds, ...TAKEOVER };
  record(takeoverRow, "Backchannel", result.samples, notes.join("; "));
}

// ---------------------------------------------------------------- the run

const peers: Peer[] = [];
let app: RunningApp | null = null;
const redis = new Redis(REDIS_URL);
let capacity = 0;
try {
  log(`profile ${profile}; starting the floor, resumable-stream and Backchannel (Redis mode, separate worker)`);
  const floor = await startPeer("floor");
  peers.push(floor);
  const durable = levelsOnly ? null : await startPeer("durable");
  if (durable) peers.push(durable);
  const resumable = await startPeer("resumable");
  peers.push(resumable);
  app = await startApp("redis", APP_ENV);
  const appSystem: System = { kind: "app", baseUrl: app.baseUrl };

  const redisPid = await localRedisPid(redis, REDIS_URL);
  if (!levelsOnly) {
    const floorPid = floor.child.pid;
    await sendScenarios(floor.system, "floor", { floor: () => (floorPid ? [floorPid] : []) });
    if (durable) {
      const durablePid = durable.child.pid;
      await sendScenarios(durable.system, DURABLE, {
        [DURABLE]: () => (durablePid ? [durablePid] : []),
        postgres: () => pidsNamed("postgres"),
        redis: () => (redisPid ? [redisPid] : []),
      });
      // Its streams are the floor's: it has served its rows.
      await stopPeer(durable);
    }
    const appPids = app.pids();
    await sendScenarios(appSystem, "Backchannel", {
      web: () => (appPids.web ? [appPids.web] : []),
      worker: () => (appPids.worker ? [appPids.worker] : []),
      postgres: () => pidsNamed("postgres"),
      redis: () => (redisPid ? [redisPid] : []),
    });
    for (const readers of [100, 300]) {
      for (const system of [floor.system, resumable.system, appSystem]) {
        await readersScenario(system, names[system.kind] ?? "", readers);
      }
    }
    for (const system of [floor.system, resumable.system, appSystem])
      await resumeScenario(system, names[system.kind] ?? "");
  }
  for (const replies of levelsOnly ?? P.levels) {
    await levelScenario(floor.system, "floor", replies, { floor: floor.child.pid });
    const level = await levelScenario(
      appSystem,
      "Backchannel",
      replies,
      { ...app.pids(), redis: redisPid },
      app,
      redis,
    );
    if (level.complete && level.peak >= replies && level.summary.p99 < 50) capacity = replies;
  }
  if (!levelsOnly) await takeoverScenario(app);
  await app.stop();
  app = null;

  if (P.embedded && !levelsOnly) {
    log("Backchannel, embedded mode (one process, PGlite, in-memory store and queue)");
    app = await startApp("embedded", APP_ENV);
    const embedded: System = { kind: "app", baseUrl: app.baseUrl };
    const embeddedPid = app.pids().web;
    await sendScenarios(embedded, "Backchannel embedded", { web: () => (embeddedPid ? [embeddedPid] : []) });
    await levelScenario(embedded, "Backchannel embedded", 100, app.pids());
    await app.stop();
    app = null;
  }
} finally {
  await app?.stop();
  for (const peer of peers) await stopPeer(peer);
  redis.disconnect();
}

// ---------------------------------------------------------------- report

const find = (scenario: string, system: string) =>
  rows.find((r) => r.scenario === scenario && r.system === system)?.summary;
interface Ratio {
  what: string;
  value: number;
  target: string;
  pass: boolean | null;
  note: string;
}
const ratios: Ratio[] = [];
function ratio(what: string, scenario: string, against: string, key: "p50" | "p99", limit: number | null) {
  const mine = find(scenario, "Backchannel");
  const theirs = find(scenario, against);
  if (!mine || !theirs) return;
  const value = Math.round((mine[key] / theirs[key]) * 100) / 100;
  // A target against resumable-stream can ask for less than the bare floor measured in this run.
  const floor = find(scenario, "floor")?.[key];
  const allowed = limit === null ? null : limit * theirs[key];
  const note =
    against !== "floor" && floor !== undefined && allowed !== null && allowed < floor
      ? `asks for ≤ ${allowed.toFixed(2)} ms, below the floor's ${floor} ms`
      : "";
  ratios.push({
    what: `${what} ${key}, Backchannel / ${against}`,
    value,
    target: limit === null ? "—" : `≤ ${limit}`,
    pass: limit === null ? null : value <= limit,
    note,
  });
}
const readers300 = "delivery, 1 reply × 300 readers";
const readers100 = "delivery, 1 reply × 100 readers";
const resumeRow = `resume halfway through ${RESUME.tokens} tokens → last missed byte`;
ratio("1 reply × 300 readers", readers300, "floor", "p50", 1.5);
ratio("1 reply × 300 readers", readers300, "floor", "p99", 1.5);
ratio("1 reply × 300 readers", readers300, "resumable-stream", "p50", 0.5);
ratio("1 reply × 300 readers", readers300, "resumable-stream", "p99", 0.5);
ratio("1 reply × 100 readers", readers100, "floor", "p99", null);
ratio("1 reply × 100 readers", readers100, "resumable-stream", "p99", null);
for (const level of P.levels) {
  ratio(`${level} replies`, `delivery, ${level} replies × 1 reader`, "floor", "p99", level === 1000 ? 2 : null);
}
ratio("send → first chunk", "send → first chunk (zero-delay model)", "floor", "p50", 3);
ratio("send → 202 at 50 senders", "send → 202, 50 concurrent senders", "floor", "p50", 3);
ratio("send → 202, 1 sender", "send → 202, 1 sender", DURABLE, "p50", null);
ratio("send → 202 at 50 senders", "send → 202, 50 concurrent senders", DURABLE, "p50", null);
ratio("send → 202 at 50 senders", "send → 202, 50 concurrent senders", DURABLE, "p99", null);
ratio("resume", resumeRow, "floor", "p50", 2);
ratio("resume", resumeRow, "floor", "p99", 2);
ratio("resume", resumeRow, "resumable-stream", "p50", 0.5);
ratio("resume", resumeRow, "resumable-stream", "p99", 0.5);
const at1000 = extras["Backchannel at 1000 replies"] as
  | { commandsPerToken: number; rssMiB: Record<string, number> }
  | undefined;

const fmt = (n: number) => (Number.isNaN(n) ? "—" : String(n));
const tableLines = [
  "| scenario | system | n | p50 ms | p99 ms | max ms | note |",
  "|---|---|--:|--:|--:|--:|---|",
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.system} | ${r.summary.n} | ${fmt(r.summary.p50)} | ${fmt(r.summary.p99)} | ${fmt(r.summary.max)} | ${r.note ?? ""} |`,
  ),
];
const perToken = Object.entries(extras)
  .filter(([name]) => name.startsWith("Backchannel at "))
  .map(
    ([name, value]) =>
      `${name.replace("Backchannel at ", "")}: ${(value as { commandsPerToken: number }).commandsPerToken}`,
  )
  .join(", ");
const ratioLines = [
  "| ratio | value | target | met | note |",
  "|---|--:|--:|---|---|",
  ...ratios.map(
    (r) => `| ${r.what} | ${r.value} | ${r.target} | ${r.pass === null ? "" : r.pass ? "yes" : "**no**"} | ${r.note} |`,
  ),
  `| capacity: most concurrent replies at ${TPS} tok/s with p99 < 50 ms (levels ${P.levels.join(", ")}) | ${capacity} | ≥ 1000 | ${capacity >= 1000 ? "yes" : "**no**"} | |`,
  `| Redis commands per generated token, 1,000 replies | ${at1000?.commandsPerToken ?? "—"} | ≤ 0.5 | ${at1000 ? (at1000.commandsPerToken <= 0.5 ? "yes" : "**no**") : ""} | ${perToken} |`,
];
// BullMQ's bound (lib/queue/bullmq.ts): a dead worker's jobs move on within lock + stalledInterval.
const takeoverSummary = find(takeoverRow, "Backchannel");
const takeoverBound = TAKEOVER.lockMs * 1.5;
if (takeoverSummary)
  ratioLines.push(
    `| takeover p99 after a worker SIGKILL, ms (WORKER_LOCK_MS ${TAKEOVER.lockMs}) | ${takeoverSummary.p99} | ≤ ${takeoverBound} | ${takeoverSummary.p99 <= takeoverBound ? "yes" : "**no**"} | lock + stalled check; p50 ${takeoverSummary.p50} |`,
  );
// The same load on each system, so CPU is comparable: a figure that holds still on a noisy machine.
const cpuLines = [
  "| replies streaming | floor | Backchannel: web | worker | Redis | total | Backchannel / floor | load process: floor run | Backchannel run |",
  "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ...(levelsOnly ?? P.levels).flatMap((level) => {
    const floorRow = cpuRows.find((r) => r.label === "floor" && r.replies === level);
    const mine = cpuRows.find((r) => r.label === "Backchannel" && r.replies === level);
    if (!floorRow || !mine) return [];
    const p = mine.processes;
    const times = floorRow.total > 0 ? (mine.total / floorRow.total).toFixed(1) : "—";
    return [
      `| ${level} | ${floorRow.total} | ${p.web ?? "—"} | ${p.worker ?? "—"} | ${p.redis ?? "—"} | ${mine.total} | ${times}× | ${floorRow.load} | ${mine.load} |`,
    ];
  }),
];
// What each send costs the machine, next to the floor's POST (which stores nothing and queues
// nothing) and the durable floor's (two rows in one transaction, one Redis write).
const sendCpuLines = [
  "| system | CPU ms per send, by process | total ms |",
  "|---|---|--:|",
  ...sendCpu.map(
    (row) =>
      `| ${row.label} | ${Object.entries(row.perSend)
        .map(([name, ms]) => `${name} ${ms}`)
        .join(", ")} | ${row.total} |`,
  ),
];
console.log(
  `\n${tableLines.join("\n")}\n\n${ratioLines.join("\n")}\n\n${cpuLines.join("\n")}\n\n${sendCpuLines.join("\n")}`,
);
if (at1000) console.log(`\nRSS at 1,000 concurrent replies (MiB): ${JSON.stringify(at1000.rssMiB)}`);

const machine = {
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  os: `${os.type()} ${os.release()}`,
  loadAverage: { start: Math.round(loadAtStart * 100) / 100, end: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
};
const date = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
const colours: Record<string, string> = {
  Backchannel: "#1f6feb",
  floor: "#2da44e",
  [DURABLE]: "#8250df",
  "resumable-stream": "#cf222e",
};
const seriesOf = (system: string, scenarioOf: (x: number) => string, xs: number[]) => ({
  name: system,
  colour: colours[system] ?? "#888",
  points: xs.flatMap((x) => {
    const s = find(scenarioOf(x), system);
    return s ? [{ x, p50: s.p50, p99: s.p99 }] : [];
  }),
});
const panels: Panel[] = [
  {
    title: "Delivery, N replies × 1 reader (60 tok/s each)",
    xLabel: "concurrent replies",
    series: ["floor", "Backchannel"].map((s) => seriesOf(s, (x) => `delivery, ${x} replies × 1 reader`, P.levels)),
  },
  {
    title: "Delivery, 1 reply × N readers",
    xLabel: "readers of one reply",
    series: ["floor", "resumable-stream", "Backchannel"].map((s) =>
      seriesOf(s, (x) => `delivery, 1 reply × ${x} readers`, [100, 300]),
    ),
  },
];
const svg = chartSvg(panels, `p50 dashed, p99 solid · ${profile} profile · ${machine.cpus} × ${machine.cpu} · ${date}`);
mkdirSync("bench/results", { recursive: true });
const jsonPath = `bench/results/${date}-${profile}.json`;
const svgPath = `bench/results/${date}-${profile}.svg`;
writeFileSync(
  jsonPath,
  JSON.stringify({ date, profile, machine, rows, ratios, capacity, cpu: cpuRows, sendCpu, extras }, null, 2),
);
writeFileSync(svgPath, svg);
console.log(`\nwrote ${jsonPath} and ${svgPath} (${((Date.now() - startedAt) / 1000).toFixed(0)} s)`);

/** The newest `npx tsx bench/lock-cost.ts` result (a run of its own, not of this one), if any. */
function lockCostSection(): string[] {
  const data = latestLockCost();
  if (!data) return [];
  const names = data.configs.map((config) => `${config.name} (${JSON.stringify(config.env)})`).join(", ");
  return [
    "## What the fault-survival timings cost",
    "",
    `From \`npx tsx bench/lock-cost.ts\` (${data.date}, ${data.machine}; not this run): a fresh app per run on its own redis-server and database, the delivery load above (N replies × 1 reader, ${data.tokens} tokens at ${data.tps} tok/s), ${data.reps} runs per setting and level in alternating order; the figures are their means. Settings, over the production defaults: ${names}. Redis commands from INFO commandstats (a script's commands one by one) as in the table above; per token over the whole run (sends included), per second while every reply streamed; idle over the 10 s after a run. Postgres from pg_stat_database for the app's database, from before the sends to 11 s after the end (a backend reports its counts when idle), so the sends' and ends' statements are in every setting's figure; the difference between the default and no ckpt is what checkpoints add.`,
    "",
    ...lockCostLines(data),
    "",
  ];
}

if (full && !levelsOnly) {
  copyFileSync(svgPath, path.join("docs", "benchmarks.svg"));
  const doc = [
    "# Benchmarks",
    "",
    `The latest full run of \`npm run bench -- --full\` (${date}, ${((Date.now() - startedAt) / 60000).toFixed(1)} min, at ${measuredCommit()}).`,
    `Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}; Redis and Postgres on the same machine, everything on loopback; 1-minute load average ${machine.loadAverage.start} at the start, ${machine.loadAverage.end} at the end (${machine.cpus} cores; other work on the machine counts in it).`,
    "",
    "Backchannel runs in its Redis mode (web app and a separate worker process, Postgres, the mock model) and, for a few rows, in its embedded mode. The floor is a bare Node SSE server (bench/peers/server.ts, in memory). The durable floor (send rows only) is the same server with a send made durable before its 202, as the app's is: the message and its reply committed to Postgres in one transaction and one Redis write. resumable-stream is the npm package (its ioredis entry, same Redis) behind the same kind of SSE server. All three get the same chunk sizes and rates (tokens gathered for 50 ms, then written as one chunk) and are read by the same load process (bench/http.ts). Delivery is measured from the chunk's `ts` (written by the worker or producer) to its arrival at the SSE reader.",
    "",
    `The app runs with its production defaults (bench/app-env.ts: ${Object.entries(PRODUCTION_TIMINGS)
      .map(([name, value]) => `${name} ${value}`)
      .join(
        ", ",
      )}) but for the limits a load from a few guests would hit (sends per minute, running replies per user) and WORKER_CONCURRENCY 5000. The takeover row (bench/takeover.ts): one guest's stream open, 10 replies of ${TAKEOVER.tokens} tokens at ${TAKEOVER.tps} tok/s on the one worker; once they all stream a second worker starts, then the first is SIGKILLed at a random point of its lock renewal; the time is from the kill to the first chunk of the continued attempt (attempt 2) at the reader, one sample per reply taken over, ${P.takeoverRounds} kills.`,
    "",
    "![delivery latency against load](benchmarks.svg)",
    "",
    ...tableLines,
    "",
    "## Ratios and targets",
    "",
    ...ratioLines,
    "",
    at1000
      ? `RSS at 1,000 concurrent replies (MiB, peak): web ${at1000.rssMiB.web}, worker ${at1000.rssMiB.worker}.`
      : "",
    "",
    ...lockCostSection(),
    "## CPU while the replies stream",
    "",
    `Share of one core (%) each system's processes used from the last send to the last end, at each delivery level (${os.cpus().length} cores here, shared with the load process, Postgres and the rest). The load is the same for both systems, so the ratio holds still where latencies swing.`,
    "",
    ...cpuLines,
    "",
    "## CPU per send",
    "",
    `CPU each system's processes used per send at 50 concurrent senders, from the first send to the last 202, each send with its 1-token reply written meanwhile (Postgres: every local Postgres process). With ${os.cpus().length} cores, send → 202 at 50 senders can be no less than about 50 × total ÷ cores.`,
    "",
    ...sendCpuLines,
    "",
    `The raw figures are in \`bench/results/${date}-full.json\`.`,
    "",
    ...keptSectionsOf(path.join("docs", "benchmarks.md")),
  ].join("\n");
  writeFileSync(path.join("docs", "benchmarks.md"), doc);
  console.log("wrote docs/benchmarks.md and docs/benchmarks.svg");
}
process.exit(0);
