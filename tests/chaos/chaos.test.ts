import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Figures } from "../../scripts/chaos/report";

// The short chaos run (npm run chaos -- --short) as part of npm test: a worker and a web process
// SIGKILLed, Redis restarted empty, the messages table locked for 10 s and reader connections cut,
// while 20 replies stream. It runs as a child so that it stops everything it started on its own,
// also when this test times out (SIGINT). It needs the production build (npm test builds first).
const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "bc-chaos-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runShortChaos(jsonPath: string, extra: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const args = ["--import", "tsx", "scripts/chaos/index.ts", "--short", `--json=${jsonPath}`, ...extra];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (data: Buffer) => {
      output += data;
    });
    child.stderr.on("data", (data: Buffer) => {
      output += data;
    });
    const timer = setTimeout(() => child.kill("SIGINT"), 200_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

// On one Redis, and on a three-master Redis Cluster, where the Redis fault is one master restarting
// empty while the other two keep their data.
describe.each([
  ["one Redis", []],
  ["a Redis Cluster", ["--redis-cluster"]],
])("chaos (redis mode on %s, two web processes, two workers)", (name, extra) => {
  it("loses, doubles and strands no reply through worker, web, Redis and Postgres faults", async () => {
    const jsonPath = path.join(dir, `short-${extra.length}.json`);
    const { code, output } = await runShortChaos(jsonPath, extra);
    expect(existsSync(jsonPath), `the run on ${name} ended (${code}) without figures:\n${output}`).toBe(true);
    const figures = JSON.parse(readFileSync(jsonPath, "utf8")) as Figures;
    expect(figures.problems, output).toEqual([]);
    expect(figures.faultsInjected).toBeGreaterThanOrEqual(5);
    expect(figures.accepted).toBe(figures.replies);
    expect(figures.failures).toMatchObject({ lost: 0, doubled: 0, stuck: 0, gap: 0, text_mismatch: 0 });
    expect(figures.knownTextResets).toBe(0);
    // A reply queued again after the Redis loss goes on at once; one whose new job was lost stood
    // still until the sweep found it quiet (STUCK_AFTER_MS, 15 s, and more).
    expect(figures.takeover.redisRestart.longestStall.seconds, output).toBeLessThan(10);
    expect(code, output).toBe(0);
  }, 240_000);
});
