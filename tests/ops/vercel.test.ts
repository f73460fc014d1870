import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv, SSE_MARGIN_SECONDS, STREAM_MAX_DURATION_SECONDS, vercelStartProblem } from "../../lib/env";

// Vercel ends a function after its maxDuration: a route's own `maxDuration` (route segment config
// in app/, `config.maxDuration` in pages/) and vercel.json must agree, and the SSE streams must be
// allowed to live past MAX_SSE_SECONDS (when the all-sessions stream sends `reconnect`) by a margin.

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

/** Every API route file, relative to the repository, with forward slashes. */
function routeFiles(): string[] {
  const found: string[] = [];
  for (const dir of ["app/api", "pages/api"]) {
    for (const entry of readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.tsx?$/.test(entry.name)) continue;
      const file = path.relative(ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
      if (dir === "pages/api" || entry.name === "route.ts") found.push(file);
    }
  }
  return found.sort();
}

/** A route holds its connection open when it answers with an event stream. */
const isLongLived = (source: string) => /\bstreamReplies\b|text\/event-stream/.test(source);

/** The literal maxDuration a route file exports (either router's spelling), or null. */
function maxDurationOf(source: string): number | null {
  const appRouter = source.match(/export const maxDuration\s*=\s*(\d+)/);
  const pagesRouter = source.match(/export const config\s*=\s*\{[^;]*\bmaxDuration:\s*(\d+)/);
  const match = appRouter ?? pagesRouter;
  return match ? Number(match[1]) : null;
}

const vercel = JSON.parse(read("vercel.json")) as { functions?: Record<string, { maxDuration?: number }> };
const functions = Object.entries(vercel.functions ?? {});
const routes = routeFiles().map((file) => ({ file, source: read(file) }));
const longLived = routes.filter((route) => isLongLived(route.source));

describe("vercel.json and the routes' maxDuration", () => {
  it("finds the SSE routes", () => {
    expect(longLived.map((route) => route.file)).toEqual([
      "pages/api/chat/stream/[sessionId].ts",
      "pages/api/chat/stream/index.ts",
    ]);
  });

  it("gives every long-lived route its own maxDuration, and vercel.json the same one", () => {
    for (const { file, source } of longLived) {
      expect(maxDurationOf(source), file).toBe(STREAM_MAX_DURATION_SECONDS);
      const covering = functions.filter(([pattern]) => path.matchesGlob(file, pattern));
      expect(covering.length, `${file} in vercel.json`).toBeGreaterThan(0);
      for (const [pattern, settings] of covering) expect(settings.maxDuration, pattern).toBe(maxDurationOf(source));
    }
  });

  it("names only files that exist in vercel.json, each with the maxDuration of its routes", () => {
    for (const [pattern, settings] of functions) {
      const matched = routes.filter((route) => path.matchesGlob(route.file, pattern));
      expect(matched.length, pattern).toBeGreaterThan(0);
      for (const route of matched) expect(maxDurationOf(route.source), route.file).toBe(settings.maxDuration);
    }
  });

  it("lets a stream outlive MAX_SSE_SECONDS by the margin, within Vercel's longest function", () => {
    const { MAX_SSE_SECONDS } = parseEnv({ NODE_ENV: "test" });
    expect(MAX_SSE_SECONDS + SSE_MARGIN_SECONDS).toBeLessThanOrEqual(STREAM_MAX_DURATION_SECONDS);
    expect(SSE_MARGIN_SECONDS).toBeGreaterThan(0);
    // Hobby allows no more than 300 s; Pro and Enterprise more. Every plan can deploy this one.
    expect(STREAM_MAX_DURATION_SECONDS).toBeLessThanOrEqual(300);
  });
});

describe("the start check on Vercel", () => {
  const production = {
    NODE_ENV: "production",
    REDIS_URL: "redis://127.0.0.1:6379",
    DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
    AUTH_SECRET: "test-secret-test-secret-test-secret",
  } as const;
  const problem = (source: NodeJS.ProcessEnv) => vercelStartProblem(parseEnv(source));

  it("accepts the production mode", () => {
    expect(problem(production)).toBeNull();
  });

  it("accepts a Redis Cluster in place of one Redis", () => {
    const { REDIS_URL: _, ...rest } = production;
    const config = parseEnv({ ...rest, REDIS_CLUSTER_NODES: "127.0.0.1:7000, 127.0.0.1:7001" });
    expect(config.mode).toBe("redis");
    expect(config.redis).toBe("cluster:127.0.0.1:7000,127.0.0.1:7001");
    expect(vercelStartProblem(config)).toBeNull();
    expect(() => parseEnv({ ...production, REDIS_CLUSTER_NODES: "127.0.0.1:7000" })).toThrow(/not both/);
    expect(() => parseEnv({ ...rest, REDIS_CLUSTER_NODES: "127.0.0.1" })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it("refuses the embedded mode, naming the variables to set", () => {
    const sentence = problem({ NODE_ENV: "production" });
    expect(sentence).toMatch(/embedded mode on Vercel/);
    expect(sentence).toMatch(/set REDIS_URL, DATABASE_URL, AUTH_SECRET and ANTHROPIC_API_KEY/);
    expect(sentence).toMatch(/missing: REDIS_URL, DATABASE_URL, AUTH_SECRET\)/);
  });

  it("refuses a half-configured production mode, naming what is missing", () => {
    expect(problem({ ...production, DATABASE_URL: "" })).toMatch(/missing: DATABASE_URL\)/);
    expect(problem({ ...production, REDIS_URL: "" })).toMatch(/missing: REDIS_URL\)/);
  });

  it("refuses a MAX_SSE_SECONDS that the stream functions would not outlive", () => {
    const longest = STREAM_MAX_DURATION_SECONDS - SSE_MARGIN_SECONDS;
    expect(problem({ ...production, MAX_SSE_SECONDS: String(longest) })).toBeNull();
    expect(problem({ ...production, MAX_SSE_SECONDS: String(longest + 1) })).toMatch(
      new RegExp(`MAX_SSE_SECONDS is ${longest + 1}.*set it to ${longest} or less`),
    );
  });
});
