import { randomUUID } from "node:crypto";
import { and, count, eq, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messages, replyRunning } from "../../lib/db/schema";
import { createDatabase } from "../support/app";

// Every statement the app sends is prepared, and after a few runs Postgres may plan it once for
// all parameter values (a generic plan). Such a plan can use the partial index of running replies
// only when the statuses are written into the statement, not bound as parameters.

let database: Awaited<ReturnType<typeof createDatabase>>;
let client: postgres.Sql;
const userId = randomUUID();

beforeAll(async () => {
  database = await createDatabase();
  client = postgres(database.url, { max: 1, onnotice: () => {} });
  await migrate(drizzle(client), { migrationsFolder: "drizzle" });
  // One user with a long history: 3,000 finished replies in 30 chats, and one running.
  await client`insert into users (id, name) values (${userId}, 'long history')`;
  await client`insert into chat_sessions (user_id, title) select ${userId}, 'chat ' || n from generate_series(1, 30) n`;
  await client`
    insert into messages (session_id, user_id, correlation_id, role, status, content)
    select s.id, ${userId}, gen_random_uuid(), 'assistant', 'completed', 'text'
    from chat_sessions s, generate_series(1, 100)`;
  await client`
    insert into messages (session_id, user_id, correlation_id, role, status)
    select id, ${userId}, gen_random_uuid(), 'assistant', 'generating' from chat_sessions limit 1`;
  await client`analyze messages`;
  await client`set plan_cache_mode = force_generic_plan`;
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

/** The generic plan of the user's running-replies count, with `running` as its status filter. */
async function genericPlan(name: string, running: ReturnType<typeof inArray>): Promise<string> {
  const query = drizzle(client)
    .select({ n: count() })
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.role, "assistant"), running))
    .toSQL();
  await client.unsafe(`prepare ${name} as ${query.sql}`);
  const literals = query.params.map((value) => `'${String(value)}'`).join(", ");
  const [result] = await client.unsafe<Array<Record<string, unknown>>>(`execute ${name}(${literals})`);
  expect(Object.values(result ?? {}).map(Number)).toEqual([1]);
  const rows = await client.unsafe<Array<{ "QUERY PLAN": string }>>(`explain execute ${name}(${literals})`);
  return rows.map((row) => row["QUERY PLAN"]).join("\n");
}

describe("the running-replies filter", () => {
  it("lets a generic plan use the partial index of running replies", async () => {
    expect(await genericPlan("with_constants", replyRunning)).toContain("messages_running_idx");
  });

  it("with the statuses as parameters, a generic plan cannot (what the constants avoid)", async () => {
    const asParameters = inArray(messages.status, ["queued", "generating"]);
    expect(await genericPlan("with_parameters", asParameters)).not.toContain("messages_running_idx");
  });
});
