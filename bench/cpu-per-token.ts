// npx tsx bench/cpu-per-token.ts [replies=500] [tokens=1800] [rounds=2] [systems=floor,app]
// CPU per delivered token, by process, while N replies × 1 reader stream at 60 tok/s: the floor's
// one process, and Backchannel's web, worker and Redis (Redis mode, separate worker). CPU is read
// from /proc from the last send to the first reply's end, the stretch in which every reply streams,
// so tokens = replies × 60 × seconds exactly and neither the sends nor the tails count. CPU seconds
// per token hold still on a shared machine where latencies do not.
//
// Redis counts only when it is this run's own: point TEST_REDIS_URL at a redis-server of your own
// (the shared one on 6379 serves other work too). With APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
// (and PEER_NODE_ARGS for the floor) the processes write CPU profiles into DIR when they stop.
import { Redis } from "ioredis";
import { startApp } from "../tests/support/app";
import { TEST_REDIS_URL } from "../tests/support/services";
import { APP_ENV } from "./app-env";
import { type PeerKind, startPeer, stopPeer } from "./peers/start";
import { cpuSeconds, delivery, localRedisPid, type System } from "./scenarios";
import { summarize } from "./stats";

const [repliesArg, tokensArg, roundsArg, systemsArg] = process.argv.slice(2);
const replies = Number(repliesArg ?? 500);
const tokens = Number(tokensArg ?? 1800);
const rounds = Number(roundsArg ?? 2);
const systems = (systemsArg ?? "floor,app").split(",");
const TPS = 60;

const redis = new Redis(TEST_REDIS_URL);
const redisPid = await localRedisPid(redis, TEST_REDIS_URL);

/** Microseconds Redis spent per command (INFO commandstats), by command. */
async function redisUsec(client: Redis): Promise<Map<string, number>> {
  const info = await client.info("commandstats");
  const usec = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=\d+,usec=(\d+)/gm))
    usec.set(match[1] ?? "", Number(match[2]));
  return usec;
}

interface Measured {
  /** CPU ms per 1,000 tokens, by process. */
  perThousand: Record<string, number>;
  seconds: number;
  p99: number;
  /** Tokens per chunk delivered while every reply streamed: fewer, larger chunks cost less per token downstream. */
  tokensPerChunk: number;
  /** Redis's own time per command per 1,000 tokens (ms), the largest first. */
  redisCommands: string;
}

async function measure(system: System, pids: Record<string, number | undefined>): Promise<Measured> {
  const read = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  let before: Record<string, number> = {};
  let after: Record<string, number> = {};
  let from = 0;
  let to = 0;
  let load = process.cpuUsage();
  let loadUsed = 0;
  let usecBefore: Promise<Map<string, number>> = Promise.resolve(new Map());
  let usecAfter: Promise<Map<string, number>> = Promise.resolve(new Map());
  const result = await delivery(system, {
    replies,
    readersPerReply: 1,
    tokens,
    tps: TPS,
    onRunning: () => {
      before = read();
      from = performance.now();
      load = process.cpuUsage();
      usecBefore = redisUsec(redis);
    },
    onFirstEnd: () => {
      after = read();
      to = performance.now();
      const used = process.cpuUsage(load);
      loadUsed = (used.user + used.system) / 1e6;
      usecAfter = redisUsec(redis);
    },
  });
  const seconds = (to - from) / 1000;
  const thousands = (replies * TPS * seconds) / 1000;
  const perThousand: Record<string, number> = {};
  for (const name of Object.keys(pids)) {
    perThousand[name] = Math.round((((after[name] ?? 0) - (before[name] ?? 0)) * 1000 * 100) / thousands) / 100;
  }
  perThousand.total = Math.round(Object.values(perThousand).reduce((sum, value) => sum + value, 0) * 100) / 100;
  perThousand.load = Math.round(((loadUsed * 1000) / thousands) * 100) / 100;
  const [start, end] = await Promise.all([usecBefore, usecAfter]);
  const redisCommands = [...end]
    .map(([name, usec]) => [name, (usec - (start.get(name) ?? 0)) / 1000 / thousands] as const)
    .filter(([name, ms]) => ms >= 0.01 && name !== "info")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(", ");
  const summary = summarize(result.samples);
  if (!result.complete) console.log("  problems:", result.problems);
  const tokensPerChunk =
    result.samples.length > 0 ? Math.round(((thousands * 1000) / result.samples.length) * 100) / 100 : 0;
  return { perThousand, seconds: Math.round(seconds * 10) / 10, p99: summary.p99, tokensPerChunk, redisCommands };
}

const peers: Array<Awaited<ReturnType<typeof startPeer>>> = [];
const app = systems.includes("app") ? await startApp("redis", APP_ENV) : null;
try {
  const running: Array<{ name: string; system: System; pids: Record<string, number | undefined> }> = [];
  for (const name of systems) {
    if (name === "app" && app) {
      running.push({
        name: "Backchannel",
        system: { kind: "app", baseUrl: app.baseUrl },
        pids: { ...app.pids(), redis: redisPid },
      });
    } else if (name === "floor" || name === "durable") {
      const peer = await startPeer(name as PeerKind, { REDIS_URL: TEST_REDIS_URL });
      peers.push(peer);
      const pids: Record<string, number | undefined> = { [name]: peer.child.pid };
      if (name === "durable") pids.redis = redisPid;
      running.push({ name, system: peer.system, pids });
    }
  }
  // A short warm-up of each: the JIT and the connection pools, not measured.
  for (const { system } of running) await delivery(system, { replies: 50, readersPerReply: 1, tokens: 120, tps: TPS });
  for (let round = 1; round <= rounds; round++) {
    for (const { name, system, pids } of round % 2 ? running : [...running].reverse()) {
      const m = await measure(system, pids);
      console.log(
        `round ${round} ${name}: ${replies} replies, ${m.seconds} s all streaming, p99 ${m.p99} ms, ${m.tokensPerChunk} tokens per chunk; CPU ms per 1000 tokens ${JSON.stringify(m.perThousand)}${m.redisCommands ? `; Redis ms per 1000 tokens by command: ${m.redisCommands}` : ""}`,
      );
    }
  }
} finally {
  await app?.stop();
  for (const peer of peers) await stopPeer(peer);
  redis.disconnect();
}
process.exit();
