import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Cluster, Redis } from "ioredis";
import postgres from "postgres";
import { type OwnCluster, startOwnCluster } from "./redis-cluster";
import { TEST_POSTGRES_URL, TEST_REDIS_URL } from "./services";

// A running Backchannel, started from the production build (`next build` runs before the suite):
// "embedded" is one process with PGlite; "redis" is the web app plus a separate worker process
// against real Redis and a fresh Postgres database; "cluster" is the same on a three-master Redis
// Cluster of the app's own (REDIS_CLUSTER_NODES).
export type Mode = "embedded" | "redis" | "cluster";

export interface RunningApp {
  mode: Mode;
  /** Redis and cluster modes: a new client of the app's Redis (the caller disconnects it). */
  redis(): Redis | Cluster;
  /** Redis and cluster modes: BullMQ's prefix as the app uses it (in a hash tag on a cluster). */
  bullPrefix: string;
  /** Cluster mode: the app's cluster. */
  cluster: OwnCluster | null;
  baseUrl: string;
  env: Record<string, string>;
  /** Redis mode: the worker's own HTTP server (WORKER_HTTP_PORT: /healthz, /metrics, Bull Board). */
  workerUrl: string;
  startWorker(): Promise<void>;
  killWorker(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  /** Everything the web server and the worker wrote to stdout and stderr so far, line by line. */
  output(): string[];
  /** Process ids of the web server and (Redis mode) the worker. */
  pids(): { web: number | undefined; worker: number | undefined };
}

const ROOT = path.resolve(import.meta.dirname, "../..");
// Node itself, not npx: a signal must reach the real process (SIGKILL of npx would orphan it).
export const TSX = ["--conditions=react-server", "--import", "tsx"];
export const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");
/** Node flags for a process whose memory a test measures: SIGUSR2 runs a full garbage collection. */
export const GC_ON_SIGNAL = ["--expose-gc", "--require", path.join(ROOT, "tests/support/gc-on-signal.cjs")];
// Extra Node flags for the web and worker processes, e.g. APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
// to profile them under the benchmark (Node refuses --cpu-prof in NODE_OPTIONS).
const APP_NODE_ARGS = (process.env.APP_NODE_ARGS ?? "").split(" ").filter(Boolean);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Starts a process in the repository; with `logTo`, all of its output goes there and none to stderr. */
export function launch(
  command: string,
  args: string[],
  env: Record<string, string>,
  name: string,
  logTo?: NodeJS.WritableStream,
): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  if (logTo) {
    const write = (data: Buffer) => logTo.write(`[${name}] ${data}`);
    child.stdout?.on("data", write);
    child.stderr?.on("data", write);
    return child;
  }
  const echo = (data: Buffer) => {
    if (process.env.TEST_APP_LOGS) process.stderr.write(`[${name}] ${data}`);
  };
  child.stdout?.on("data", echo);
  child.stderr?.on("data", (data: Buffer) => {
    echo(data);
    const text = String(data);
    if (/"level":"error"|Error:/.test(text) && !process.env.TEST_APP_LOGS) process.stderr.write(`[${name}] ${text}`);
  });
  return child;
}

export async function waitForHealth(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseUrl}/api/health`);
      last = await response.text();
      if (response.ok) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`app at ${baseUrl} not healthy: ${last}`);
}

async function waitForAnswer(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (
      await fetch(`${baseUrl}/api/health`).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`app at ${baseUrl} never answered`);
}

export function stopChild(child: ChildProcess | null, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

async function dropRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bc_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** Applies the migrations to the env's DATABASE_URL, as `npm run db:migrate` does. */
export async function migrateDatabase(env: Record<string, string>, logTo?: NodeJS.WritableStream): Promise<void> {
  const migrate = launch(process.execPath, [...TSX, "scripts/migrate.ts"], env, "migrate", logTo);
  const code = await new Promise<number | null>((resolve) => migrate.once("exit", resolve));
  if (code !== 0) throw new Error("migrations failed");
}

export const BASE_ENV = {
  NODE_ENV: "production",
  NEXT_TELEMETRY_DISABLED: "1",
  LOG_LEVEL: "warn",
  AUTH_SECRET: "test-secret-test-secret-test-secret",
  // Every test's guests come from 127.0.0.1 (and in the Redis mode share one limit key across
  // apps): the limits per address are lifted here; tests/api/limits.test.ts sets its own.
  GUEST_SIGNUPS_PER_HOUR: "1000000",
  RATE_LIMIT_SENDS_PER_ADDRESS_PER_MINUTE: "1000000",
  RETRY_BACKOFF_MS: "50",
  WORKER_LOCK_MS: "2000",
  STUCK_AFTER_MS: "8000",
  SWEEP_INTERVAL_MS: "1000",
  CHECKPOINT_MS: "1000",
  STORE_CHECK_MS: "500",
  SHUTDOWN_GRACE_MS: "500",
};

export async function startApp(
  mode: Mode,
  extraEnv: Record<string, string> = {},
  /** `webNodeArgs`: extra Node flags for the web process alone (e.g. GC_ON_SIGNAL). */
  options: { waitUntilHealthy?: boolean; webNodeArgs?: string[] } = {},
): Promise<RunningApp> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const workerPort = await freePort();
  const cleanups: Array<() => Promise<void>> = [];
  const env: Record<string, string> = { ...BASE_ENV, PORT: String(port), ...extraEnv };
  let cluster: OwnCluster | null = null;
  if (mode === "embedded") {
    const dataDir = mkdtempSync(path.join(tmpdir(), "bc-embedded-"));
    env.DATA_DIR = dataDir;
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  } else {
    const database = await createDatabase();
    cleanups.push(database.drop);
    // Its own BullMQ prefix: apps of concurrent test runs never take each other's jobs.
    const prefix = `bctest-${database.url.split("/").at(-1)}`;
    if (mode === "cluster") {
      const own = await startOwnCluster();
      cluster = own;
      cleanups.push(() => own.stop());
      Object.assign(env, { REDIS_URL: "", REDIS_CLUSTER_NODES: own.nodes, BULLMQ_PREFIX: prefix }, extraEnv);
    } else {
      cleanups.push(() => dropRedisKeys(`${prefix}:*`));
      Object.assign(env, { REDIS_URL: TEST_REDIS_URL, BULLMQ_PREFIX: prefix }, extraEnv);
    }
    Object.assign(env, { DATABASE_URL: database.url }, extraEnv);
    await migrateDatabase(env);
  }
  const web = launch(
    process.execPath,
    [...APP_NODE_ARGS, ...(options.webNodeArgs ?? []), NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"],
    env,
    `web:${mode}`,
  );
  const output: string[] = [];
  const capture = (child: ChildProcess) => {
    let partial = "";
    const collect = (data: Buffer) => {
      const lines = (partial + String(data)).split("\n");
      partial = lines.pop() ?? "";
      output.push(...lines.filter(Boolean));
      // A long run (the benchmark's) keeps its last lines only.
      if (output.length > 100_000) output.splice(0, output.length - 100_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
  };
  capture(web);
  let worker: ChildProcess | null = null;
  const app: RunningApp = {
    mode,
    redis: () => cluster?.client() ?? new Redis(env.REDIS_URL || TEST_REDIS_URL),
    bullPrefix: cluster ? `{${env.BULLMQ_PREFIX}}` : (env.BULLMQ_PREFIX ?? ""),
    cluster,
    baseUrl,
    env,
    workerUrl: `http://127.0.0.1:${workerPort}`,
    startWorker: async () => {
      if (mode === "embedded") return;
      const workerEnv = { ...env, WORKER_HTTP_PORT: String(workerPort) };
      worker = launch(process.execPath, [...APP_NODE_ARGS, ...TSX, "workers/index.ts"], workerEnv, "worker");
      capture(worker);
      await waitForHealth(baseUrl);
    },
    killWorker: async (signal) => {
      await stopChild(worker, signal);
      worker = null;
    },
    stop: async () => {
      await stopChild(worker);
      await stopChild(web);
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
    output: () => [...output],
    pids: () => ({ web: web.pid, worker: worker?.pid }),
  };
  try {
    if (options.waitUntilHealthy === false) await waitForAnswer(baseUrl);
    else if (mode !== "embedded") await app.startWorker();
    else await waitForHealth(baseUrl);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}
