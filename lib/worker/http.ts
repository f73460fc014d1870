import "server-only";
import { timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { type ServerType, serve } from "@hono/node-server";
import { serveStatic } from "@hono/node-server/serve-static";
import { Queue } from "bullmq";
import { type Context, Hono, type Next } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { collectDefaultMetrics } from "prom-client";
import { env } from "../env";
import { describeError, log } from "../log";
import { check, probeDatabase } from "../ops/health";
import { registerQueueGauges } from "../ops/prom";
import { bullPrefixOf, CHAT_QUEUE, getReplyQueue } from "../queue/index";
import { newRedisClient, type RedisClient, redisConnection } from "../redis/connections";
import { workerMetrics } from "./metrics";

// The standalone worker's own HTTP server, on WORKER_HTTP_PORT (or PORT): /healthz for the
// platform's health check, /metrics for Prometheus, and Bull Board at /admin/queues. The last two
// need METRICS_TOKEN (Bull Board is not mounted without one: it can retry and delete jobs).

export const HEALTH_PATH = "/healthz";
export const BOARD_PATH = "/admin/queues";
const BOARD_COOKIE = "bc_board_token";

export interface WorkerHttp {
  port: number;
  close(): Promise<void>;
}

function tokenMatches(given: string | undefined, expected: string) {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const bearerOf = (c: Context) => c.req.header("authorization")?.replace(/^Bearer\s+/i, "");

/** GET /healthz's answer: 200 when Redis and Postgres answer and the worker takes jobs, else 503 with the reason. */
export async function workerHealth(isTakingJobs: () => boolean) {
  const url = env().redis ?? "";
  const [redis, db] = await Promise.all([
    check(async () => (await redisConnection(url, "command")).ping()),
    check(probeDatabase),
  ]);
  const worker = isTakingJobs() ? "running" : "stopped";
  const reasons = [
    redis === "error" && "Redis does not answer",
    db === "error" && "Postgres does not answer",
    worker === "stopped" && "the worker does not take jobs (closing or paused)",
  ].filter(Boolean);
  const ok = reasons.length === 0;
  return { status: ok ? 200 : 503, body: { ok, redis, db, worker, ...(ok ? {} : { reason: reasons.join("; ") }) } };
}

export function startWorkerHttp(port: number, isTakingJobs: () => boolean): Promise<WorkerHttp> {
  const config = env();
  const token = config.METRICS_TOKEN;
  const { registry } = workerMetrics();
  collectDefaultMetrics({ register: registry, prefix: "backchannel_" });
  registerQueueGauges(registry, () => getReplyQueue().stats());

  const app = new Hono();
  app.get(HEALTH_PATH, async (c) => {
    const { status, body } = await workerHealth(isTakingJobs);
    return c.json(body, status as 200 | 503, { "Cache-Control": "no-store" });
  });
  app.get("/metrics", async (c) => {
    if (token && !tokenMatches(bearerOf(c), token)) return c.json({ error: "unauthorized" }, 401);
    return c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType });
  });

  let boardQueue: Queue | null = null;
  let boardConnection: RedisClient | null = null;
  if (token && config.redis) {
    // A Bearer header (scripts), or ?token= once in a browser: it sets an HttpOnly cookie for the
    // board's pages and API calls, and redirects to the same address without the token.
    const guard = async (c: Context, next: Next) => {
      const query = c.req.query("token");
      if (query !== undefined && tokenMatches(query, token)) {
        const url = new URL(c.req.url);
        // Secure behind an HTTPS proxy (Railway's), not on a plain local port.
        const secure = url.protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
        setCookie(c, BOARD_COOKIE, token, { path: BOARD_PATH, httpOnly: true, sameSite: "Strict", secure });
        url.searchParams.delete("token");
        return c.redirect(`${url.pathname}${url.search}`, 303);
      }
      if (tokenMatches(bearerOf(c), token) || tokenMatches(getCookie(c, BOARD_COOKIE), token)) return next();
      return c.text("A metrics token is required: open this page with ?token=<METRICS_TOKEN>.", 401);
    };
    boardConnection = newRedisClient(config.redis, { maxRetriesPerRequest: null });
    boardConnection.on("error", () => {});
    boardQueue = new Queue(CHAT_QUEUE, { connection: boardConnection, prefix: bullPrefixOf(config) });
    boardQueue.on("error", () => {});
    const adapter = new HonoAdapter(serveStatic).setBasePath(BOARD_PATH);
    createBullBoard({ queues: [new BullMQAdapter(boardQueue)], serverAdapter: adapter });
    app.use(BOARD_PATH, guard);
    app.use(`${BOARD_PATH}/*`, guard);
    app.route(BOARD_PATH, adapter.registerPlugin());
  }

  return new Promise((resolve, reject) => {
    let server: ServerType | null = null;
    server = serve({ fetch: app.fetch, port, hostname: "0.0.0.0" }, (info: AddressInfo) => {
      log.info("worker http listening", { port: info.port, board: boardQueue ? BOARD_PATH : null });
      resolve({
        port: info.port,
        close: async () => {
          await new Promise<void>((done) => {
            if (!server) return done();
            server.close(() => done());
            // A scraper's keep-alive connection would hold the close open.
            if ("closeAllConnections" in server) server.closeAllConnections();
          });
          await boardQueue?.close().catch(() => {});
          boardConnection?.disconnect();
        },
      });
    });
    server.once("error", (error) => {
      log.error("worker http failed", { port, error: describeError(error) });
      reject(error);
    });
  });
}
