// npx tsx bench/cluster-commands.ts [--replies=50] [--tokens=720] — Redis commands per generated
// token on one Redis and on a three-master Redis Cluster: the same delivery load as `npm run bench`
// (N replies × 1 reader at 60 tok/s) on a fresh app each, with Redis of its own (a redis-server, or
// the cluster's three masters, whose INFO commandstats are summed), so only that app's commands
// count, a script's commands one by one, sends and ends included. Needs the production build.
import { Redis } from "ioredis";
import { startApp } from "../tests/support/app";
import { startOwnRedis } from "../tests/support/redis-server";
import { APP_ENV } from "./app-env";
import { commandStats, delivery } from "./scenarios";

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const REPLIES = Number(arg("replies", "50"));
const TOKENS = Number(arg("tokens", "720"));
const TPS = 60;

const diff = (after: Map<string, number>, before: Map<string, number>) =>
  new Map([...after].map(([name, calls]) => [name, calls - (before.get(name) ?? 0)]));
const total = (calls: Map<string, number>) => [...calls.values()].reduce((sum, n) => sum + n, 0);
const top = (calls: Map<string, number>) =>
  [...calls]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");

async function measure(label: string, mode: "redis" | "cluster", env: Record<string, string> = {}) {
  const app = await startApp(mode, { ...APP_ENV, ...env });
  const single = mode === "redis" ? new Redis(app.env.REDIS_URL ?? "") : null;
  const stats = () => (single ? commandStats(single) : (app.cluster?.commandStats() ?? Promise.resolve(new Map())));
  try {
    const before = await stats();
    const result = await delivery(
      { kind: "app", baseUrl: app.baseUrl },
      {
        replies: REPLIES,
        readersPerReply: 1,
        tokens: TOKENS,
        tps: TPS,
      },
    );
    // The ends' writes land a moment after the readers saw `done`.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const calls = diff(await stats(), before);
    const perToken = total(calls) / (REPLIES * TOKENS);
    console.log(
      `${label}: ${total(calls)} commands for ${REPLIES} × ${TOKENS} tokens = ${perToken.toFixed(3)} per token` +
        `${result.complete ? "" : ` (INCOMPLETE: ${result.problems[0]})`}; most: ${top(calls)}`,
    );
  } finally {
    single?.disconnect();
    await app.stop();
  }
}

console.log(`${REPLIES} replies × 1 reader, ${TOKENS} tokens at ${TPS} tok/s each`);
const server = await startOwnRedis();
try {
  await measure("one Redis", "redis", { REDIS_URL: server.url });
} finally {
  await server.stop();
}
// startApp's cluster mode starts the app's own cluster.
await measure("Redis Cluster, 3 masters", "cluster");
