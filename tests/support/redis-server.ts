import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { freePort } from "./app";

const run = promisify(execFile);

// A redis-server of a test's own, on a free port, that the test may shut down and start again
// (the shared Redis on 6379 is never stopped). No persistence: a restart comes back empty, as a
// Redis that lost its data would.
export interface OwnRedis {
  port: number;
  url: string;
  /** `redis-cli shutdown nosave`, then waits until the server process has exited. */
  shutdown(): Promise<void>;
  /** Starts it again on the same port (if it is not running) and waits until it answers PING. */
  start(): Promise<void>;
  /** Kills it if it runs (cleanup). */
  stop(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  try {
    const { stdout } = await run("redis-cli", ["-p", String(port), "ping"]);
    return stdout.trim() === "PONG";
  } catch {
    return false;
  }
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let server: ChildProcess | null = null;
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const own: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (server) return; // already running: a second server could not bind the port anyway
      const child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        {
          stdio: "ignore",
        },
      );
      server = child;
      const deadline = Date.now() + 10_000;
      while (!(await ping(port))) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async shutdown() {
      const child = server;
      // The server closes its connections as it goes; redis-cli may see the link drop: no error then.
      await run("redis-cli", ["-p", String(port), "shutdown", "nosave"]).catch(() => {});
      if (child) await exited(child);
      server = null;
    },
    async stop() {
      const child = server;
      server = null;
      if (!child) return;
      child.kill("SIGKILL");
      await exited(child);
    },
  };
  await own.start();
  return own;
}
