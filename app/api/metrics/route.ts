// GET /api/metrics — Prometheus text format; needs `Authorization: Bearer <METRICS_TOKEN>` when set.
// In the embedded mode the worker runs in this process: its series (lib/worker/metrics.ts) are
// served here too. In the Redis mode the worker serves them itself (WORKER_HTTP_PORT, /metrics).
import { timingSafeEqual } from "node:crypto";
import { Registry } from "prom-client";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { withRequest } from "@/lib/http/handler";
import { metrics } from "@/lib/metrics";
import { workerMetrics } from "@/lib/worker/metrics";

export const dynamic = "force-dynamic";

function tokenMatches(given: string, expected: string) {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const GET = withRequest(async ({ request }) => {
  const token = env().METRICS_TOKEN;
  const given = request.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
  if (token && !tokenMatches(given, token)) throw new AppError(401, "unauthorized", "A metrics token is required.");
  const { registry } = metrics();
  const served = env().mode === "embedded" ? Registry.merge([registry, workerMetrics().registry]) : registry;
  return new Response(await served.metrics(), { headers: { "Content-Type": registry.contentType } });
});
