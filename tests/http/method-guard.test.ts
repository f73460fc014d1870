import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { API_ROUTES, pathSegments, routeOf } from "@/lib/http/method-guard";
import { guardAnswer } from "@/lib/http/unroutable";

const ROOT = path.resolve(import.meta.dirname, "../..");

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => path.join(dir, file));
}

/** A route file's path as the table writes it: `[id]` is `:id`, `[...rest]` is `*`. */
function patternOf(file: string): string {
  const route = file
    .replace(/^app/, "")
    .replace(/^pages/, "")
    .replace(/\/route\.ts$|\/index\.ts$|\.ts$/, "")
    .replace(/\[\.\.\.[A-Za-z]+\]/, "*")
    .replace(/\[([A-Za-z]+)\]/g, ":$1");
  return route;
}

/** The methods a route file exports (app/api) or hands its wrapper (pages/api, GET by default). */
function methodsOf(file: string): string[] {
  const source = readFileSync(path.join(ROOT, file), "utf8");
  if (file.startsWith("app/")) {
    const exported = [
      ...source.matchAll(/export const (?:\{ )?([A-Z]+(?:, [A-Z]+)*)/g),
      ...source.matchAll(/as ([A-Z]+)\b/g),
    ];
    return exported.flatMap((match) => (match[1] ?? "").split(", "));
  }
  const listed = [...source.matchAll(/\[((?:"[A-Z]+"(?:, )?)+)\]/g)].at(-1)?.[1];
  return listed ? (JSON.parse(`[${listed}]`) as string[]) : ["GET"];
}

// lib/http/method-guard.ts must name every route file with the methods it answers, or the guard
// would send a right method to a 405 (or let a wrong one through to Next's empty 405).
describe("the method table", () => {
  const files = [...filesUnder("app/api"), ...filesUnder("pages/api")].filter((file) => !file.includes("[...path]"));

  it.each(files)("names %s with its methods", (file) => {
    const pattern = patternOf(file);
    const route = API_ROUTES.find((entry) => entry.pattern === pattern);
    expect(route, pattern).toBeDefined();
    const answered = methodsOf(file);
    expect(answered.length, file).toBeGreaterThan(0);
    // App routes answer HEAD for GET on their own; the streams (pages/api) must not, nor Auth.js
    // (it takes any method but GET for a POST and redirects to its error page).
    const headToo = file.startsWith("app/") && answered.includes("GET") && !file.includes("[...nextauth]");
    const expected = headToo ? [...answered, "HEAD"] : answered;
    expect([...(route?.methods ?? [])].sort(), file).toEqual([...new Set(expected)].sort());
  });

  it("matches a path by its segments, each decoded alone, and ignores one trailing slash", () => {
    expect(routeOf(["api", "chat", "sessions", "x"])?.pattern).toBe("/api/chat/sessions/:sessionId");
    expect(routeOf(["api", "chat", "sessions", "x", ""])?.pattern).toBe("/api/chat/sessions/:sessionId");
    expect(routeOf(["api", "chat", "sessions", "a/b", "messages"])?.pattern).toBe(
      "/api/chat/sessions/:sessionId/messages",
    );
    expect(routeOf(["api", "chat", "sessions", "", "messages"])).toBeNull();
    expect(routeOf(["api", "auth", "callback", "guest"])?.pattern).toBe("/api/auth/callback/guest");
    expect(routeOf(["api", "auth", "callback", "github"])?.pattern).toBe("/api/auth/*");
    expect(routeOf(["chat", "x"])).toBeNull();
  });

  it("resolves dot segments as Next does, also when they are escaped", () => {
    expect(pathSegments("/api/./health")).toEqual(["api", "health"]);
    expect(pathSegments("/api/%2e%2e/api/health?x=1")).toEqual(["api", "health"]);
    expect(pathSegments("/api/..")).toEqual([""]);
    expect(pathSegments("/../..")).toEqual([""]);
    expect(pathSegments("/api/.")).toEqual(["api", ""]);
    expect(pathSegments("/api/a%2Fb#frag")).toEqual(["api", "a/b"]);
    expect(pathSegments("/api/%zz")).toBeNull();
    expect(pathSegments("*")).toBeNull();
  });

  it("answers before Next only what Next must not see", () => {
    expect(guardAnswer("GET", "/api/health")).toBeNull();
    expect(guardAnswer("GET", "/chat/x")).toBeNull();
    expect(guardAnswer("POST", "/api/nothing")).toBeNull();
    expect(guardAnswer("PUT", "/api/health")?.error?.status).toBe(405);
    expect(guardAnswer("PUT", "/api/%2e/health")?.error?.status).toBe(405);
    expect(guardAnswer("GET", "/api/chat/sessions/%2e%2e/messages")?.headers.Allow).toBe("POST, OPTIONS");
    expect(guardAnswer("OPTIONS", "/api/%2e%2e")).toBeNull();
    expect(guardAnswer("POST", "/api/metrics#x")?.headers.Allow).toBe("GET, HEAD, OPTIONS");
    expect(guardAnswer("OPTIONS", "/api/chat/messages")).toEqual({ error: null, headers: { Allow: "POST, OPTIONS" } });
    expect(guardAnswer("TRACE", "/")?.error?.status).toBe(405);
    expect(guardAnswer("GET", "/%E0%A4%A")?.error?.status).toBe(400);
    expect(guardAnswer("GET", "/api")?.error?.code).toBe("not_found");
  });
});
