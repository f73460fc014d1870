import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { toAppError } from "../../lib/errors";
import { freePort } from "../support/app";
import { startOwnRedis } from "../support/redis-server";
import { TEST_POSTGRES_URL } from "../support/services";

// The one error mapper against the errors the real libraries raise (no hand-made errors): each
// outage becomes its 503 with Retry-After, anything else stays a 500.

const outageOf = (error: unknown) => {
  const mapped = toAppError(error);
  return { status: mapped.status, code: mapped.code, retryAfter: mapped.headers?.["Retry-After"] };
};
const outage = (code: string) => ({ status: 503, code, retryAfter: "5" });

describe("toAppError on real Redis and Postgres failures", () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it("maps a command on a lost or closed Redis connection to store_unavailable", async () => {
    const redis = await startOwnRedis();
    closers.push(() => redis.stop());
    const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    client.on("error", () => {});
    closers.push(async () => client.disconnect());
    if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
    // In flight when the server goes: MaxRetriesPerRequestError. Sent after: no offline queue.
    const inFlight = client.blpop("never", 10).catch((error: unknown) => error);
    await redis.shutdown();
    expect(outageOf(await inFlight)).toEqual(outage("store_unavailable"));
    const after = await client.get("x").catch((error: unknown) => error);
    expect(outageOf(after)).toEqual(outage("store_unavailable"));
  });

  it("maps a statement timeout (through drizzle) and a refused connection to database_unavailable", async () => {
    const client = postgres(TEST_POSTGRES_URL, { max: 2, onnotice: () => {}, connection: { statement_timeout: 100 } });
    closers.push(() => client.end());
    const db = drizzle(client);
    const slow = await db.execute(sql`select pg_sleep(1)`).catch((error: unknown) => error);
    expect(outageOf(slow)).toEqual(outage("database_unavailable"));

    const refusedUrl = new URL(TEST_POSTGRES_URL);
    refusedUrl.port = String(await freePort());
    const nobody = postgres(refusedUrl.toString(), { max: 1, connect_timeout: 2 });
    closers.push(() => nobody.end());
    const refused = await nobody`select 1`.catch((error: unknown) => error);
    expect(outageOf(refused)).toEqual(outage("database_unavailable"));
  });

  it("keeps a query error that is not an outage a 500", async () => {
    const client = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
    closers.push(() => client.end());
    const broken = await drizzle(client)
      .execute(sql`select * from no_such_table`)
      .catch((error: unknown) => error);
    expect(outageOf(broken)).toEqual({ status: 500, code: "internal_error", retryAfter: undefined });
  });
});
