import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Cluster, type ClusterOptions } from "ioredis";
import { freePort } from "./app";

const run = promisify(execFile);

// A Redis Cluster of a test's own: three masters (no replicas) on free loopback ports, no
// persistence, each node's cluster file in a temporary directory. Tests point the app at it with
// REDIS_CLUSTER_NODES.
export interface OwnCluster {
  ports: number[];
  /** REDIS_CLUSTER_NODES: "127.0.0.1:<port>,…". */
  nodes: string;
  /** A client of the cluster (the caller quits it). */
  client(options?: ClusterOptions): Cluster;
  /**
   * Every command the masters ran so far by name (INFO commandstats summed over them, a script's
   * commands one by one, INFO itself left out), as bench/scenarios.ts counts one Redis's.
   */
  commandStats(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-p", String(port), ...args]);
  return stdout;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} in time`);
    await sleep(100);
  }
}

export async function startOwnCluster(masters = 3): Promise<OwnCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "bc-cluster-"));
  const ports: number[] = [];
  while (ports.length < masters) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: both must be free.
    if (port + 10_000 < 65_536 && !ports.includes(port) && (await portIsFree(port + 10_000))) ports.push(port);
  }
  const servers: ChildProcess[] = ports.map((port) =>
    spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        path.join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        "5000",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      { stdio: "ignore" },
    ),
  );
  const stop = async () => {
    await Promise.all(
      servers.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports)
      await waitFor(`node ${port} answered`, async () => (await cli(port, "ping")).trim() === "PONG");
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    for (const port of ports)
      await waitFor(`node ${port} saw the cluster ok`, async () =>
        (await cli(port, "cluster", "info")).includes("cluster_state:ok"),
      );
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = ports.map((port) => `127.0.0.1:${port}`).join(",");
  return {
    ports,
    nodes,
    client: (options = {}) =>
      new Cluster(
        ports.map((port) => ({ host: "127.0.0.1", port })),
        { scaleReads: "master", ...options },
      ),
    async commandStats() {
      const calls = new Map<string, number>();
      for (const port of ports) {
        const info = await cli(port, "info", "commandstats");
        for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
          const name = match[1] ?? "";
          if (name !== "info") calls.set(name, (calls.get(name) ?? 0) + Number(match[2]));
        }
      }
      return calls;
    },
    stop,
  };
}
