import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../../lib/env";
import { HEALTH_PATH } from "../../lib/worker/http";

// railway.json deploys the worker: it must name the worker's start script, its health path, and
// give a SIGTERM'd worker at least SHUTDOWN_GRACE_MS (plus the hand-back after it) before SIGKILL.

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), "utf8"));

describe("railway.json", () => {
  const { deploy } = read("railway.json") as {
    deploy: {
      startCommand: string;
      healthcheckPath: string;
      restartPolicyType: string;
      drainingSeconds: number;
    };
  };

  it("starts the worker and checks the path its HTTP server answers", () => {
    const scripts = (read("package.json") as { scripts: Record<string, string> }).scripts;
    expect(deploy.startCommand).toBe("npm run worker");
    expect(scripts.worker).toMatch(/workers\/index\.ts/);
    expect(deploy.healthcheckPath).toBe(HEALTH_PATH);
    expect(deploy.restartPolicyType).toBe("ON_FAILURE");
  });

  it("drains longer than the worker's shutdown grace", () => {
    const { SHUTDOWN_GRACE_MS } = parseEnv({ NODE_ENV: "test" });
    expect(typeof deploy.drainingSeconds).toBe("number");
    expect(deploy.drainingSeconds * 1000).toBeGreaterThan(SHUTDOWN_GRACE_MS);
  });
});
