// Per-unit costs for docs/scaling.md: CPU per delivered token in the web processes, the workers and
// Redis; memory per open stream and per running reply; Redis commands and bytes per token. One
// deployment of N web processes and M workers on one Redis of its own (a fresh redis-server, so
// its counters are this run's alone) or on a three-master Redis Cluster of its own (`--cluster`),
// one Postgres database of its own, the mock model.
//
//   npx tsx bench/scaling.ts [--webs 1] [--workers 1] [--replies 300] [--tokens 1200] [--tps 60]
//                            [--streams 500] [--cluster]
//
// Load: `replies` guests, each with its all-sessions stream open on web i (round-robin) and one
// reply of `tokens` tokens at `tps` sent through the next web, so with two webs every event crosses
// from one process to the other through Redis. CPU is from /proc (user + system) from the first
// send to the last end; Redis's from INFO (used_cpu_user + used_cpu_sys) over the same span,
// summed over its masters. Memory per stream: the web's RSS with `streams` idle streams open
// against none; per running reply: the worker's peak RSS while every reply runs against its idle RSS.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import {
  createDatabase,
  freePort,
  launch,
  migrateDatabase,
  NEXT_BIN,
  stopChild,
  TSX,
  waitForHealth,
} from "../tests/support/app";
import { startOwnCluster } from "../tests/support/redis-cluster";
import { startOwnRedis } from "../tests/support/redis-server";
import { APP_ENV } from "./app-env";
import { openSse, type SseReader } from "./http";
import { cpuSeconds, guests, pool, rssMiB, sendMessage } from "./scenarios";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

interface RedisSide {
  /** Variables the app gets for it. */
  env: Record<string, string>;
  /** A client per master, for INFO. */
  clients: Redis[];
  close(): Promise<void>;
}

async function singleRedis(): Promise<RedisSide> {
  const own = await startOwnRedis();
  await own.start();
  const client = new Redis(own.url);
  return {
    env: { REDIS_URL: own.url },
    clients: [client],
    close: async () => {
      client.disconnect();
      await own.stop();
    },
  };
}

async function clusterRedis(): Promise<RedisSide> {
  // The test suite's cluster: three masters on free loopback ports.
  const cluster = await startOwnCluster();
  const clients = cluster.ports.map((port) => new Redis(port, "127.0.0.1"));
  return {
    env: { REDIS_CLUSTER_NODES: cluster.nodes },
    clients,
    close: async () => {
      for (const client of clients) client.disconnect();
      await cluster.stop();
    },
  };
}

interface RedisCounters {
  cpu: number;
  commands: number;
  bytesIn: number;
  bytesOut: number;
}

async function redisCounters(clients: Redis[]): Promise<RedisCounters> {
  const total: RedisCounters = { cpu: 0, commands: 0, bytesIn: 0, bytesOut: 0 };
  for (const client of clients) {
    const info = `${await client.info()}\n${await client.info("commandstats")}`;
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
    total.cpu += field("used_cpu_user") + field("used_cpu_sys");
    total.bytesIn += field("total_net_input_bytes");
    total.bytesOut += field("total_net_output_bytes");
    for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm))
      if (!["info", "cluster|nodes", "cluster|slots", "cluster|shards"].includes(match[1] ?? ""))
        total.commands += Number(match[2]);
  }
  return total;
}

async function main() {
  const webs = option("webs", 1);
  const workers = option("workers", 1);
  const replies = option("replies", 300);
  const tokens = option("tokens", 1200);
  const tps = option("tps", 60);
  const idleStreams = option("streams", 500);
  const onCluster = process.argv.includes("--cluster");

  const redis = onCluster ? await clusterRedis() : await singleRedis();
  const database = await createDatabase();
  const env: Record<string, string> = {
    ...APP_ENV,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    AUTH_SECRET: "bench-secret-bench-secret-bench-secret",
    DATABASE_URL: database.url,
    BULLMQ_PREFIX: `scale-${Date.now()}`,
    ...redis.env,
  };
  await migrateDatabase(env);
  const children: Array<{ name: string; child: ReturnType<typeof launch> }> = [];
  const baseUrls: string[] = [];
  for (let i = 0; i < webs; i++) {
    const port = await freePort();
    const child = launch(
      process.execPath,
      [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"],
      { ...env, PORT: String(port) },
      `web${i}`,
    );
    children.push({ name: `web${i}`, child });
    baseUrls.push(`http://127.0.0.1:${port}`);
  }
  for (let i = 0; i < workers; i++) {
    const child = launch(process.execPath, [...TSX, "workers/index.ts"], env, `worker${i}`);
    children.push({ name: `worker${i}`, child });
  }
  const pidOf = (name: string) => children.find((c) => c.name === name)?.child.pid;
  const webNames = children.filter((c) => c.name.startsWith("web")).map((c) => c.name);
  const workerNames = children.filter((c) => c.name.startsWith("worker")).map((c) => c.name);
  try {
    for (const baseUrl of baseUrls) await waitForHealth(baseUrl, 120_000);
    await sleep(2_000);

    // Memory per open stream: idle all-sessions streams spread over the webs.
    const idleRss = Object.fromEntries(webNames.map((name) => [name, rssMiB(pidOf(name))]));
    const idleUsers = (await Promise.all(baseUrls.map((url) => guests(url, Math.ceil(idleStreams / webs))))).flat();
    const idleReaders: SseReader[] = idleUsers.map((user, i) =>
      openSse(`${baseUrls[i % webs]}/api/chat/stream`, { cookie: user.cookie }, () => undefined),
    );
    await Promise.all(idleReaders.map((reader) => reader.opened));
    await sleep(3_000);
    const perStreamKiB =
      (webNames.reduce((sum, name) => sum + (rssMiB(pidOf(name)) - (idleRss[name] ?? 0)), 0) * 1024) /
      idleReaders.length;
    for (const reader of idleReaders) reader.close();
    await sleep(2_000);

    // Delivery: one reply per guest, read on web i, sent through web i + 1.
    const users = (await Promise.all(baseUrls.map((url) => guests(url, Math.ceil(replies / webs)))))
      .flat()
      .slice(0, replies);
    let ended = 0;
    let chunks = 0;
    const ends: Promise<void>[] = [];
    const readers = users.map((user, i) => {
      let done: () => void = () => {};
      ends.push(new Promise<void>((resolve) => (done = resolve)));
      const reader = openSse(`${baseUrls[i % webs]}/api/chat/stream`, { cookie: user.cookie }, (frame) => {
        if (frame.event === "chunk") chunks++;
        if (frame.event === "done" || frame.event === "error") {
          ended++;
          done();
          return true;
        }
        return undefined;
      });
      return reader;
    });
    await Promise.all(readers.map((reader) => reader.opened));
    const workerIdleRss = Object.fromEntries(workerNames.map((name) => [name, rssMiB(pidOf(name))]));
    const workerPeak: Record<string, number> = { ...workerIdleRss };
    const sampler = setInterval(() => {
      for (const name of workerNames) workerPeak[name] = Math.max(workerPeak[name] ?? 0, rssMiB(pidOf(name)));
    }, 250);
    const cpuBefore = Object.fromEntries(children.map(({ name, child }) => [name, cpuSeconds(child.pid)]));
    const redisBefore = await redisCounters(redis.clients);
    const startedAt = performance.now();
    await pool(users, 100, (user, i) =>
      sendMessage(baseUrls[(i + 1) % webs] ?? "", user, `/mock tokens=${tokens} tps=${tps} ttft=0\nscaling ${i}`),
    );
    await Promise.race([Promise.all(ends), sleep((tokens / tps) * 1000 * 3 + 60_000)]);
    const seconds = (performance.now() - startedAt) / 1000;
    const redisAfter = await redisCounters(redis.clients);
    const cpu = Object.fromEntries(
      children.map(({ name, child }) => [name, cpuSeconds(child.pid) - (cpuBefore[name] ?? 0)]),
    );
    clearInterval(sampler);
    for (const reader of readers) reader.close();

    const delivered = ended * tokens;
    const sum = (names: string[]) => names.reduce((total, name) => total + (cpu[name] ?? 0), 0);
    /** CPU ms per 1,000 delivered tokens. */
    const perKTokens = (cpuSeconds: number) => Math.round((cpuSeconds / delivered) * 1e7) / 10;
    const result = {
      at: new Date().toISOString(),
      node: process.version,
      redis: onCluster ? "cluster of 3 masters" : "one redis-server",
      webs,
      workers,
      replies,
      tokens,
      tps,
      ended,
      chunks,
      seconds: Math.round(seconds),
      cpuMsPer1000Tokens: {
        web: perKTokens(sum(webNames)),
        worker: perKTokens(sum(workerNames)),
        redis: perKTokens(redisAfter.cpu - redisBefore.cpu),
      },
      cpuSharesOfACore: Object.fromEntries(
        Object.entries(cpu).map(([name, s]) => [name, Math.round((s / seconds) * 100)]),
      ),
      redisCpuShare: Math.round(((redisAfter.cpu - redisBefore.cpu) / seconds) * 100),
      redisCommandsPerToken: Math.round(((redisAfter.commands - redisBefore.commands) / delivered) * 1000) / 1000,
      redisBytesPerToken: {
        in: Math.round((redisAfter.bytesIn - redisBefore.bytesIn) / delivered),
        out: Math.round((redisAfter.bytesOut - redisBefore.bytesOut) / delivered),
      },
      webKiBPerOpenStream: Math.round(perStreamKiB),
      workerKiBPerRunningReply: Math.round(
        (workerNames.reduce((total, name) => total + ((workerPeak[name] ?? 0) - (workerIdleRss[name] ?? 0)), 0) *
          1024) /
          replies,
      ),
    };
    console.log(JSON.stringify(result, null, 2));
    const dir = path.join(import.meta.dirname, "results");
    mkdirSync(dir, { recursive: true });
    const file = path.join(
      dir,
      `${result.at.replace(/[:.]/g, "-").slice(0, 19)}-scaling-${webs}w${workers}k${onCluster ? "-cluster" : ""}.json`,
    );
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    if (ended < replies) console.error(`INCOMPLETE: ${ended} of ${replies} replies ended`);
  } finally {
    for (const { child } of children.reverse()) await stopChild(child);
    await database.drop();
    await redis.close();
  }
  process.exit(0);
}

await main();
