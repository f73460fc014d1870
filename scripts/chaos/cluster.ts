// The chaos run's own deployment: a redis-server on a free port (so it may be killed and restarted
// empty), a fresh Postgres database, two web processes from the production build and two workers.
// Everything it starts it stops, in `stop`, whatever state the run left it in.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, statSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import {
  BASE_ENV,
  createDatabase,
  freePort,
  launch,
  migrateDatabase,
  NEXT_BIN,
  stopChild,
  TSX,
  waitForHealth,
} from "../../tests/support/app";
import { sleep } from "./options";

export interface WebProcess {
  name: string;
  port: number;
  baseUrl: string;
  child: ChildProcess | null;
}

const ROOT = path.resolve(import.meta.dirname, "../..");
const APP_DIRS = ["lib", "app", "pages", "components", "workers"];

/**
 * The web processes run the production build, the workers the source: a build older than the
 * source would test two versions at once. Throws without a build; names the newer files otherwise.
 */
export function staleSinceBuild(): string[] {
  const buildId = path.join(ROOT, ".next/BUILD_ID");
  if (!existsSync(buildId)) throw new Error("no production build: run `npx next build` first");
  const builtAt = statSync(buildId).mtimeMs;
  const newer: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (statSync(path.join(ROOT, relative)).mtimeMs > builtAt) newer.push(relative);
    }
  };
  for (const dir of APP_DIRS) if (existsSync(path.join(ROOT, dir))) walk(dir);
  return newer;
}

export class Cluster {
  readonly webs: WebProcess[] = [];
  private readonly workers: Array<ChildProcess | null> = [null, null];
  private redis: ChildProcess | null = null;
  /** With `redisCluster`: the other masters, which stay up (the first is `redis`/`redisPort`). */
  private readonly otherNodes: Array<{ port: number; child: ChildProcess | null }> = [];
  private database: { url: string; drop(): Promise<void> } | null = null;
  private lockHolder: postgres.Sql | null = null;
  private stopped = false;
  readonly logDir = mkdtempSync(path.join(tmpdir(), "bc-chaos-"));
  readonly log: WriteStream = createWriteStream(path.join(this.logDir, "processes.log"));
  env: Record<string, string> = {};
  redisPort = 0;

  /** `redisCluster`: Redis is a three-master cluster, and its fault is the first master restarting empty. */
  constructor(
    private readonly knobs: Record<string, string>,
    private readonly redisCluster = false,
  ) {}

  async start(): Promise<void> {
    this.redisPort = await freePort();
    await this.startRedis();
    if (this.redisCluster) {
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const node = { port, child: await this.startRedisNode(port) };
        this.otherNodes.push(node);
      }
      const all = [this.redisPort, ...this.otherNodes.map((node) => node.port)];
      await new Promise<void>((resolve, reject) =>
        execFile(
          "redis-cli",
          [
            "--cluster",
            "create",
            ...all.map((port) => `127.0.0.1:${port}`),
            "--cluster-replicas",
            "0",
            "--cluster-yes",
          ],
          { timeout: 30_000 },
          (error) => (error ? reject(error) : resolve()),
        ),
      );
      await this.waitForClusterOk();
    }
    this.database = await createDatabase();
    // Not the test suite's quick timings (BASE_ENV): the app's defaults, but for the run's knobs.
    const { NODE_ENV, NEXT_TELEMETRY_DISABLED, AUTH_SECRET } = BASE_ENV;
    this.env = {
      NODE_ENV,
      NEXT_TELEMETRY_DISABLED,
      AUTH_SECRET,
      ...this.knobs,
      LLM_PROVIDER: "mock",
      ...(this.redisCluster
        ? {
            REDIS_URL: "",
            REDIS_CLUSTER_NODES: [this.redisPort, ...this.otherNodes.map((node) => node.port)]
              .map((port) => `127.0.0.1:${port}`)
              .join(","),
          }
        : { REDIS_URL: `redis://127.0.0.1:${this.redisPort}` }),
      DATABASE_URL: this.database.url,
    };
    await migrateDatabase(this.env, this.log);
    for (const name of ["web-a", "web-b"]) {
      const port = await freePort();
      this.webs.push({ name, port, baseUrl: `http://127.0.0.1:${port}`, child: null });
    }
    for (const web of this.webs) this.startWeb(web);
    this.startWorker(0);
    this.startWorker(1);
    await Promise.all(this.webs.map((web) => waitForHealth(web.baseUrl)));
  }

  private startWeb(web: WebProcess): void {
    const args = [NEXT_BIN, "start", "-p", String(web.port), "-H", "127.0.0.1"];
    web.child = launch(process.execPath, args, { ...this.env, PORT: String(web.port) }, web.name, this.log);
  }

  startWorker(index: number): void {
    this.workers[index] = launch(process.execPath, [...TSX, "workers/index.ts"], this.env, `worker-${index}`, this.log);
  }

  /** SIGKILLs the worker: its running replies must be taken over by the other one or its successor. */
  async killWorker(index: number): Promise<void> {
    await stopChild(this.workers[index] ?? null, "SIGKILL");
    this.workers[index] = null;
  }

  async killWeb(index: number): Promise<void> {
    const web = this.webs[index];
    if (!web) return;
    await stopChild(web.child, "SIGKILL");
    web.child = null;
  }

  async restartWeb(index: number): Promise<void> {
    const web = this.webs[index];
    if (!web) return;
    this.startWeb(web);
    await waitForHealth(web.baseUrl).catch(() => {});
  }

  private async startRedis(): Promise<void> {
    this.redis = await this.startRedisNode(this.redisPort);
    // A cluster's master that restarts empty keeps its slots (its nodes file): back in the cluster.
    if (this.redisCluster && this.otherNodes.length) await this.waitForClusterOk();
  }

  private async startRedisNode(port: number): Promise<ChildProcess> {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    if (this.redisCluster) {
      const config = path.join(this.logDir, `nodes-${port}.conf`);
      args.push("--cluster-enabled", "yes", "--cluster-config-file", config, "--cluster-node-timeout", "5000");
    }
    const redis = spawn("redis-server", [...args, "--dir", this.logDir], { stdio: ["ignore", "pipe", "pipe"] });
    redis.stdout?.on("data", (data: Buffer) => this.log.write(`[redis:${port}] ${data}`));
    redis.stderr?.on("data", (data: Buffer) => this.log.write(`[redis:${port}] ${data}`));
    for (let tries = 0; tries < 100; tries++) {
      if ((await this.redisCli("-p", String(port), "ping")) === "PONG") return redis;
      await sleep(50);
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  }

  private async waitForClusterOk(): Promise<void> {
    const ports = [this.redisPort, ...this.otherNodes.map((node) => node.port)];
    for (let tries = 0; tries < 300; tries++) {
      const infos = await Promise.all(ports.map((port) => this.redisCli("-p", String(port), "cluster", "info")));
      if (infos.every((info) => info.includes("cluster_state:ok"))) return;
      await sleep(100);
    }
    throw new Error("the Redis Cluster did not reach cluster_state:ok");
  }

  /** `shutdown nosave`: Redis goes away with all its data, as a crashed instance without persistence does. */
  async stopRedisLosingData(): Promise<void> {
    const redis = this.redis;
    const exited = redis ? new Promise((resolve) => redis.once("exit", resolve)) : Promise.resolve();
    await this.redisCli("shutdown", "nosave");
    await Promise.race([exited, sleep(5_000)]);
    await stopChild(redis, "SIGKILL");
    this.redis = null;
  }

  restartRedis(): Promise<void> {
    return this.startRedis();
  }

  /** redis-cli on the (first) Redis; a leading "-p", port picks another node. */
  private redisCli(...args: string[]): Promise<string> {
    const target = args[0] === "-p" ? [] : ["-p", String(this.redisPort)];
    return new Promise((resolve) => {
      execFile("redis-cli", [...target, ...args], { timeout: 5_000 }, (_error, stdout) =>
        resolve(String(stdout).trim()),
      );
    });
  }

  /** Holds `LOCK TABLE messages IN ACCESS EXCLUSIVE MODE` for `ms`; resolves with when the lock was held. */
  async holdMessagesLock(ms: number): Promise<{ lockedAt: number; releasedAt: number }> {
    const sql = postgres(this.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
    this.lockHolder = sql;
    let lockedAt = 0;
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe("lock table messages in access exclusive mode");
        lockedAt = Date.now();
        await sleep(ms);
      });
      return { lockedAt, releasedAt: Date.now() };
    } finally {
      await sql.end({ timeout: 5 });
      this.lockHolder = null;
    }
  }

  /** The running replies' checkpoints as the database holds them (id → characters kept). */
  async checkpointedReplies(): Promise<Map<string, number>> {
    const sql = postgres(this.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<Array<{ id: string; kept: number }>>`
        select id, length(coalesce(content, '')) as kept from messages
        where role = 'assistant' and status = 'generating'`;
      return new Map(rows.map((row) => [row.id, Number(row.kept)]));
    } catch (error) {
      this.log.write(`[chaos] checkpoint read failed: ${String(error)}\n`);
      return new Map();
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  /** Stops every process and redis-server this run started and drops its database. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.lockHolder?.end({ timeout: 1 }).catch(() => {});
    const children = [...this.workers, ...this.webs.map((web) => web.child)];
    await Promise.all(children.map((child) => stopChild(child, "SIGTERM")));
    await stopChild(this.redis, "SIGTERM");
    this.redis = null;
    for (const node of this.otherNodes) await stopChild(node.child, "SIGTERM");
    await this.database?.drop().catch((error: unknown) => this.log.write(`[chaos] drop failed: ${String(error)}\n`));
    this.database = null;
    await new Promise((resolve) => this.log.end(resolve));
  }
}
