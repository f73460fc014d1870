// REST against TCP for the web app's Redis commands: what one command costs over Upstash's REST
// API (`@upstash/redis`, HTTP keep-alive) and over an ioredis connection, warm and from a cold
// process, and how many sockets each holds. Run: `npx tsx bench/rest-vs-tcp.ts [--delay 20]`.
//
// Everything is on loopback: the REST side is tests/support/upstash-rest.ts in front of the same
// Redis, so the REST figure includes that small server's work where Upstash's would be elsewhere.
// `--delay D` puts a proxy in front of both that holds every packet D ms each way, as a function
// D·2 ms of round trip away from its Redis would see (no TLS here: rediss:// and https:// add a
// handshake to both cold paths). The commands are the app's: READ_SCRIPT (a replay's read of a
// reply) by EVALSHA, and the send's two (the rate-limit script and CREATE_SCRIPT) issued together.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, connect as netConnect, type Server } from "node:net";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { type RedisPort, restPort, tcpPort } from "../lib/redis/port";
import { CREATE_SCRIPT, READ_SCRIPT } from "../lib/streams/redis-scripts";
import { startUpstashRest } from "../tests/support/upstash-rest";
import { summarize } from "./stats";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const HIT_SCRIPT = `local c = redis.call("INCR", KEYS[1]) redis.call("PEXPIRE", KEYS[1], ARGV[1], "NX") return {c, redis.call("PTTL", KEYS[1])}`;

/** A TCP proxy to `port` that delays every chunk `delayMs` each way; counts the connections it took. */
async function delayProxy(
  port: number,
  delayMs: number,
): Promise<{ port: number; connections: () => number; server: Server }> {
  let connections = 0;
  const server = createServer((downstream) => {
    connections++;
    const upstream = netConnect(port, "127.0.0.1");
    const relay = (from: typeof downstream, to: typeof downstream) => {
      from.on("data", (data) => (delayMs > 0 ? setTimeout(() => to.write(data), delayMs) : to.write(data)));
      from.on("close", () => setTimeout(() => to.destroy(), delayMs));
      from.on("error", () => {});
    };
    relay(downstream, upstream);
    relay(upstream, downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return { port: address.port, connections: () => connections, server };
}

async function timeEach(n: number, work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return times;
}

const sendLike = (port: RedisPort, user: string) => () =>
  Promise.all([
    port.run(HIT_SCRIPT, [`restbench:rl:${user}`], [60_000]),
    port.run(CREATE_SCRIPT, [`restbench:reply:${randomUUID()}`], [randomUUID(), randomUUID(), user, randomUUID(), 60]),
  ]);

/** One cold sample in a fresh process: from making the client to the first command's answer. */
// Not execFileSync: the proxies and the REST server answering the child live in this process.
async function coldSample(transport: "tcp" | "rest", target: string, token: string): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    "--import",
    "tsx",
    import.meta.filename,
    "--cold",
    transport,
    target,
    token,
  ]);
  return Number(stdout.trim().split("\n").at(-1));
}

async function cold(transport: string, target: string, token: string) {
  const start = performance.now();
  if (transport === "tcp") {
    const client = new Redis(target, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    await tcpPort(client).run(READ_SCRIPT, ["restbench:none", "restbench:none:list"], [0]);
    console.log(performance.now() - start);
    client.disconnect();
  } else {
    await restPort({ url: target, token }, 5_000).run(READ_SCRIPT, ["restbench:none", "restbench:none:list"], [0]);
    console.log(performance.now() - start);
  }
  process.exit(0);
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "--cold") return cold(args[1] ?? "", args[2] ?? "", args[3] ?? "");
  const delayAt = args.indexOf("--delay");
  const delayMs = delayAt === -1 ? 0 : Number(args[delayAt + 1]);
  const samples = 300;
  const rest = await startUpstashRest(REDIS_URL);
  const redisProxy = await delayProxy(Number(new URL(REDIS_URL).port || 6379), delayMs);
  const restProxy = await delayProxy(Number(new URL(rest.url).port), delayMs);
  const tcpUrl = `redis://127.0.0.1:${redisProxy.port}`;
  const restUrl = `http://127.0.0.1:${restProxy.port}`;
  const client = new Redis(tcpUrl, { enableAutoPipelining: true });
  const ports = { tcp: tcpPort(client), rest: restPort({ url: restUrl, token: rest.token }, 5_000) };
  const rows: string[] = [];
  const row = (what: string, transport: string, times: number[]) => {
    const s = summarize(times);
    rows.push(`| ${what} | ${transport} | ${s.n} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} |`);
  };
  for (const transport of ["tcp", "rest"] as const) {
    const port = ports[transport];
    await port.run(READ_SCRIPT, ["restbench:none", "restbench:none:list"], [0]); // loads the script, opens the socket
    await sendLike(port, "warmup")();
    row(
      "replay read (READ_SCRIPT), warm",
      transport,
      await timeEach(samples, () => port.run(READ_SCRIPT, ["restbench:none", "restbench:none:list"], [0])),
    );
    row("send's two commands together, warm", transport, await timeEach(samples, sendLike(port, randomUUID())));
    // 50 callers at once, as 50 requests of one instance: TCP pipelines them on its one connection;
    // REST batches what is issued in one tick into one /pipeline request.
    const before = transport === "tcp" ? redisProxy.connections() : restProxy.connections();
    row(
      "50 concurrent replay reads, each",
      transport,
      (
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const start = performance.now();
            await port.run(READ_SCRIPT, ["restbench:none", "restbench:none:list"], [0]);
            return performance.now() - start;
          }),
        )
      ).flat(),
    );
    const opened = (transport === "tcp" ? redisProxy.connections() : restProxy.connections()) - before;
    rows.push(`| sockets opened by those 50 | ${transport} | | ${opened} | |`);
  }
  for (const transport of ["tcp", "rest"] as const) {
    const times: number[] = [];
    for (let i = 0; i < 12; i++)
      times.push(await coldSample(transport, transport === "tcp" ? tcpUrl : restUrl, rest.token));
    row("cold process: client made → first answer", transport, times);
  }
  console.log(`REST vs TCP, ${delayMs} ms added each way (${new Date().toISOString()}, Node ${process.version})\n`);
  console.log("| what | transport | n | p50 ms | p99 ms |\n|---|---|--:|--:|--:|");
  console.log(rows.join("\n"));
  client.disconnect();
  redisProxy.server.close();
  restProxy.server.close();
  await rest.close();
  const cleanup = new Redis(REDIS_URL);
  const keys = await cleanup.keys("restbench:*");
  if (keys.length) await cleanup.del(...keys);
  cleanup.disconnect();
  process.exit(0);
}

await main();
