// npx tsx bench/lock-cost.ts [--levels=100,1000] [--reps=2] [--tokens=1200] [--configs=default]
// [--env=LOG_LEVEL=warn]: what the fault-survival timings cost while replies stream. Three
// settings, each run on a fresh app with its own redis-server (so INFO commandstats counts that
// app's commands only, its idle ones included) and its own Postgres database (one app at a time:
// three at once ran Postgres out of connections):
//   default       the production defaults (WORKER_LOCK_MS 2000, CHECKPOINT_MS 3000),
//   lock 30000    WORKER_LOCK_MS 30000, the bench's setting before those defaults,
//   no ckpt       the defaults but CHECKPOINT_MS 3600000 (no checkpoint in a run): what checkpoints cost.
// Each gets the same delivery load as `npm run bench` (N replies × 1 reader, 60 tok/s), in turns
// A B C, C B A… so the machine's drift hits all alike. Per run: Redis commands per second while all
// replies stream and per token over the run (as npm run bench counts them), the idle rate after it,
// Postgres transactions, rows updated and database growth over the run (WAL too, but that is the
// whole server's, other work on it included), CPU by process while streaming, and the replies that
// needed a second attempt (with no fault in the run, each is a live reply whose lock ran out).
// Prints its tables (bench/lock-cost-report.ts); writes bench/results/<date>-lock-cost.json, which
// the next `npm run bench -- --full` puts into docs/benchmarks.md (a run of some settings, or with
// --env, writes <date>-lock-cost-partial.json, which it leaves alone). With TEST_APP_LOGS=1 the
// app's output (the worker's lock errors among it) goes to stderr.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { Redis } from "ioredis";
import postgres from "postgres";
import { freePort, type RunningApp, startApp, stopChild } from "../tests/support/app";
import { TEST_POSTGRES_URL } from "../tests/support/services";
import { APP_ENV } from "./app-env";
import { type LockCostFile, type LockCostRun, lockCostLines } from "./lock-cost-report";
import { commandStats, cpuSeconds, delivery, localRedisPid, pidsNamed } from "./scenarios";
import { summarize } from "./stats";

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const LEVELS = arg("levels", "100,1000").split(",").map(Number);
const REPS = Number(arg("reps", "2"));
const TOKENS = Number(arg("tokens", "1200"));
const TPS = 60;
// Postgres backends report their counts when idle, at most once a second, the last ones up to 10 s
// later (PGSTAT_IDLE_INTERVAL): the run's Postgres figures are read this long after its end.
const PG_SETTLE_MS = 11_000;

const ALL_CONFIGS = [
  { name: "default", env: {} },
  { name: "lock 30000", env: { WORKER_LOCK_MS: "30000" } },
  { name: "no ckpt", env: { CHECKPOINT_MS: "3600000" } },
] as const;
// --configs=default runs only the named settings (comma-separated, by name).
const chosen = arg("configs", "").split(",").filter(Boolean);
const CONFIGS = chosen.length ? ALL_CONFIGS.filter((config) => chosen.includes(config.name)) : ALL_CONFIGS;
// --env=LOG_LEVEL=warn,KEY=VALUE sets more of the app's env in every setting (its workers' logs
// reach this process's stderr with TEST_APP_LOGS=1).
const EXTRA_ENV: Record<string, string> = Object.fromEntries(
  arg("env", "")
    .split(",")
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const startedAt = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`);

interface Side {
  name: string;
  app: RunningApp;
  redis: Redis;
  redisServer: ChildProcess;
  redisPid: number | undefined;
  database: string;
}

async function startSide(config: (typeof CONFIGS)[number]): Promise<Side> {
  const server = await startRedisServer();
  const app = await startApp("redis", { ...APP_ENV, ...config.env, ...EXTRA_ENV, REDIS_URL: server.url });
  const redis = new Redis(server.url);
  return {
    name: config.name,
    app,
    redis,
    redisServer: server.child,
    redisPid: await localRedisPid(redis, server.url),
    database: new URL(app.env.DATABASE_URL ?? "").pathname.slice(1),
  };
}

async function stopSide(side: Side): Promise<void> {
  await side.app.stop();
  side.redis.disconnect();
  await stopChild(side.redisServer, "SIGTERM");
}

type Run = LockCostRun;

async function startRedisServer(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  for (let tries = 0; tries < 100; tries++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return { url, child };
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`redis-server on ${port} did not answer`);
}

const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
async function pgCounts(database: string) {
  const [row] = await admin<Array<{ xact: string; updated: string; wal: string; size: string }>>`
    select xact_commit + xact_rollback as xact, tup_updated as updated,
      pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as wal, pg_database_size(datname)::text as size
    from pg_stat_database where datname = ${database}`;
  return {
    xact: Number(row?.xact ?? 0),
    updated: Number(row?.updated ?? 0),
    wal: Number(row?.wal ?? 0),
    size: Number(row?.size ?? 0),
  };
}

const total = (stats: Map<string, number>) => [...stats.values()].reduce((sum, calls) => sum + calls, 0);
function diff(after: Map<string, number>, before: Map<string, number>) {
  const out = new Map<string, number>();
  for (const [name, calls] of after)
    if (calls - (before.get(name) ?? 0) > 0) out.set(name, calls - (before.get(name) ?? 0));
  return out;
}

async function measure(side: Side, level: number): Promise<Run> {
  const pids = { web: side.app.pids().web, worker: side.app.pids().worker, redis: side.redisPid };
  // Postgres: every local Postgres process, each counted from when it was first seen.
  const postgresSeen = new Map<number, number>();
  const cpuNow = (): Record<string, number> => {
    let postgresSeconds = 0;
    for (const pid of pidsNamed("postgres")) {
      const now = cpuSeconds(pid) || 0;
      if (!postgresSeen.has(pid)) postgresSeen.set(pid, now);
      postgresSeconds += now - (postgresSeen.get(pid) ?? now);
    }
    return {
      ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)])),
      postgres: postgresSeconds,
    };
  };
  const pgBefore = await pgCounts(side.database);
  const before = await commandStats(side.redis);
  let streamStats = before;
  let streamFrom = performance.now();
  let cpuFrom: Record<string, number> = cpuNow();
  let onRunning: Promise<void> = Promise.resolve();
  const result = await delivery(
    { kind: "app", baseUrl: side.app.baseUrl },
    {
      replies: level,
      readersPerReply: 1,
      tokens: TOKENS,
      tps: TPS,
      onRunning: () => {
        streamFrom = performance.now();
        cpuFrom = cpuNow();
        onRunning = commandStats(side.redis).then((stats) => {
          streamStats = stats;
        });
      },
    },
  );
  await onRunning;
  const after = await commandStats(side.redis);
  const seconds = (performance.now() - streamFrom) / 1000;
  const cpuTo = cpuNow();
  const cpu = Object.fromEntries(
    Object.entries(cpuTo).map(([name, value]) => [name, Math.round(((value - (cpuFrom[name] ?? 0)) / seconds) * 100)]),
  );
  const streaming = diff(after, streamStats);
  const byCommand = Object.fromEntries(
    [...streaming.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([name, calls]) => [name, Math.round(calls / seconds)]),
  );
  // Idle: the jobs' completions are in by now; what the app does with nothing running.
  await sleep(1_000);
  const idleFrom = await commandStats(side.redis);
  const idleStart = performance.now();
  await sleep(PG_SETTLE_MS - 1_000);
  const idleTo = await commandStats(side.redis);
  const idleSeconds = (performance.now() - idleStart) / 1000;
  const pgAfter = await pgCounts(side.database);
  // Attempts past the first: with no fault in the run, each is a live reply whose lock ran out.
  const appDb = postgres(side.app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
  const [attempts] = await appDb<Array<{ retried: string; extra: string }>>`
    select count(*) filter (where attempt > 1) as retried, coalesce(sum(attempt - 1), 0) as extra
    from messages where role = 'assistant'`;
  await appDb.end();
  return {
    config: side.name,
    level,
    streamingSeconds: Math.round(seconds * 10) / 10,
    commandsPerSecond: Math.round(total(streaming) / seconds),
    commandsPerToken: Math.round((total(diff(after, before)) / (level * TOKENS)) * 1000) / 1000,
    idlePerSecond: Math.round((total(diff(idleTo, idleFrom)) / idleSeconds) * 10) / 10,
    byCommand,
    pgTransactions: pgAfter.xact - pgBefore.xact,
    pgRowsUpdated: pgAfter.updated - pgBefore.updated,
    walBytes: pgAfter.wal - pgBefore.wal,
    dbGrowthBytes: pgAfter.size - pgBefore.size,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    repliesRetried: Number(attempts?.retried ?? 0),
    extraAttempts: Number(attempts?.extra ?? 0),
    cpu,
    p99: summarize(result.samples).p99,
    complete: result.complete,
  };
}

const runs: Run[] = [];
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const date = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
const data: LockCostFile = {
  date,
  machine,
  levels: LEVELS,
  reps: REPS,
  tokens: TOKENS,
  tps: TPS,
  configs: CONFIGS,
  runs,
};
// A run of some settings or with more env is not the cost table's: the next full bench takes the
// newest *-lock-cost.json for docs/benchmarks.md, so such a run is written under another name.
const partial = chosen.length > 0 || Object.keys(EXTRA_ENV).length > 0;
const jsonPath = `bench/results/${date}-lock-cost${partial ? "-partial" : ""}.json`;
mkdirSync("bench/results", { recursive: true });
// A socket reset under a loaded machine once ended a run here with nothing written: log it, go on.
process.on("uncaughtException", (error) => log(`uncaught: ${String(error)}`));
// Written after every run: a run that fails later keeps what it measured.
const save = () => writeFileSync(jsonPath, JSON.stringify(data, null, 2));
try {
  log(`lock cost: levels ${LEVELS.join(", ")}, ${REPS} runs each per setting, ${TOKENS} tokens at ${TPS} tok/s`);
  for (const level of LEVELS) {
    for (let rep = 0; rep < REPS; rep++) {
      for (const config of rep % 2 ? [...CONFIGS].reverse() : CONFIGS) {
        const side = await startSide(config);
        try {
          await sleep(2_000);
          const run = await measure(side, level);
          runs.push(run);
          save();
          log(
            `${level} replies · ${side.name}: ${run.commandsPerSecond} Redis cmds/s streaming (${run.commandsPerToken}/token), idle ${run.idlePerSecond}/s; PG ${run.pgTransactions} xacts, ${run.pgRowsUpdated} rows updated, db +${(run.dbGrowthBytes / 2 ** 20).toFixed(1)} MiB, server WAL ${(run.walBytes / 2 ** 20).toFixed(1)} MiB; CPU ${JSON.stringify(run.cpu)}; ${run.repliesRetried} replies had a second attempt; load ${run.loadAverage}; p99 ${run.p99} ms${run.complete ? "" : " INCOMPLETE"}`,
          );
          log(`  top commands/s: ${JSON.stringify(run.byCommand)}`);
        } catch (error) {
          log(`${level} replies · ${side.name}: the run failed (${String(error)}); on to the next`);
        } finally {
          await stopSide(side).catch(() => {});
        }
      }
    }
  }
} finally {
  await admin.end();
}

// ---------------------------------------------------------------- report: means over the runs
console.log(`\n${lockCostLines(data).join("\n")}`);
save();
console.log(`\nwrote ${jsonPath} (${((Date.now() - startedAt) / 1000).toFixed(0)} s)`);
process.exit(0);
