import "server-only";
import { sql } from "drizzle-orm";
import { getDb } from "../db/client";
import { messages } from "../db/schema";
import { env } from "../env";
import { getReplyQueue } from "../queue/index";
import { commandPort } from "../redis/command-port";

const withTimeout = <T>(work: Promise<T>, ms: number) =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);

export async function check(work: () => Promise<unknown>): Promise<"ok" | "error"> {
  try {
    await withTimeout(work(), 3_000);
    return "ok";
  } catch {
    return "error";
  }
}

// `select 1` answers while a lock on the messages table stalls every send: the probe reads a row
// of it instead, with a statement timeout of its own (in a transaction, so it does not outlive the
// probe on the pooled connection). A healthy read takes about a millisecond.
const DB_PROBE_TIMEOUT_MS = 2_000;

export async function probeDatabase() {
  await (await getDb()).transaction(async (tx) => {
    await tx.execute(sql.raw(`set local statement_timeout = ${DB_PROBE_TIMEOUT_MS}`));
    await tx.execute(sql`select 1 from ${messages} limit 1`);
  });
}

/** GET /api/health's body: each part checked for real, with a short timeout. */
export async function healthReport() {
  const config = env();
  const [db, redis, workers] = await Promise.all([
    check(probeDatabase),
    config.redis ? check(async () => (await commandPort()).command("PING")) : "n/a",
    withTimeout(getReplyQueue().workerCount(), 3_000).catch(() => 0),
  ]);
  const worker = workers > 0 ? "ok" : "stale";
  const ok = db === "ok" && redis !== "error" && worker === "ok";
  return { status: ok ? 200 : 503, body: { ok, mode: config.mode, db, redis, worker } };
}
