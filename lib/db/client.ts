import "server-only";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { Sql } from "postgres";
import { env } from "../env";
import * as schema from "./schema";
import { nameStatement, timedPglite, timedPostgres } from "./slow-queries";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

interface DbHandle {
  db: Database;
  kind: "postgres" | "pglite";
  migrate(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATIONS_FOLDER = path.join(process.cwd(), "drizzle");

/**
 * drizzle runs every statement not built with `.prepare(name)` unprepared, and postgres-js asks
 * the server to describe an unprepared statement with parameters before it binds them: two round
 * trips (and two writes) a statement. Here every statement with parameters is prepared (postgres-js
 * names it and keeps it per connection, keyed by its text): the first run describes it, every
 * later one is a single round trip. A statement without parameters still goes as a simple query.
 */
export function preparingEverything(client: Sql): Sql {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key !== "unsafe") return Reflect.get(target, key, receiver);
      return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
        target.unsafe(query, params as never, { ...options, prepare: true });
    },
  });
}

async function openPostgres(url: string): Promise<DbHandle> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const { DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS } = env();
  // A statement that waits on a lock or runs too long is cancelled (SQLSTATE 55P03 / 57014) and its
  // request answers 503 (lib/errors.ts): a stalled database must not hold requests, and the pool's
  // ten connections with them, for ever. A server that does not answer a connect is given up on too.
  const client = postgres(url, {
    max: 10,
    onnotice: () => {},
    connect_timeout: 5,
    connection: { statement_timeout: DB_STATEMENT_TIMEOUT_MS, lock_timeout: DB_LOCK_TIMEOUT_MS },
  });
  const db = drizzle(preparingEverything(timedPostgres(client)), { schema });
  return {
    db,
    kind: "postgres",
    // Migrations take strong locks and may run long (an index on a big table): a connection of
    // their own, without the request timeouts.
    migrate: async () => {
      const own = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await migrate(drizzle(own, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await own.end({ timeout: 5 });
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string): Promise<DbHandle> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const dir = path.join(dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzle(timedPglite(client), { schema });
  const handle: DbHandle = {
    db,
    kind: "pglite",
    migrate: () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: () => client.close(),
  };
  // The embedded database belongs to this one process: bring it up to date on open.
  await handle.migrate();
  return handle;
}

// One connection pool per process, kept on globalThis so dev hot reload does not leak pools.
const cache = globalThis as unknown as { __backchannelDb?: Promise<DbHandle> };

export function dbHandle(): Promise<DbHandle> {
  if (!cache.__backchannelDb) {
    const { DATABASE_URL, dataDir } = env();
    const opening = DATABASE_URL ? openPostgres(DATABASE_URL) : openPglite(dataDir);
    cache.__backchannelDb = opening.catch((error: unknown) => {
      cache.__backchannelDb = undefined;
      throw error;
    });
  }
  return cache.__backchannelDb;
}

export async function getDb(): Promise<Database> {
  return (await dbHandle()).db;
}

export async function closeDb(): Promise<void> {
  const opening = cache.__backchannelDb;
  cache.__backchannelDb = undefined;
  if (opening) await (await opening).close();
}

/**
 * The rows of a statement written out in SQL (postgres-js answers with the rows, PGlite with
 * { rows }), on `db` (a transaction's) or the process's database.
 */
export async function allRows<Row>(query: SQL, db?: Database): Promise<Row[]> {
  const result = (await (db ?? (await getDb())).execute(query)) as unknown as Row[] | { rows: Row[] };
  return Array.isArray(result) ? result : result.rows;
}

/** The first row of a statement written out in SQL (see allRows). */
export async function firstRow<Row>(query: SQL, db?: Database): Promise<Row | undefined> {
  return (await allRows<Row>(query, db))[0];
}

/**
 * A statement built once per database and run many times: `build` returns drizzle's query
 * (placeholders for the values), prepared here under `name`, the name a slow-query line gives it.
 * Building a query costs more CPU than sending it (about 0.15 ms a query here), so the statements
 * on every send, resume and reply start are prepared.
 */
export function prepared<Query extends { getQuery(): { sql: string } }>(
  name: string,
  build: (db: Database) => { prepare(name: string): Query },
): () => Promise<Query> {
  const byDb = new WeakMap<Database, Query>();
  return async () => {
    const db = await getDb();
    let query = byDb.get(db);
    if (query === undefined) {
      query = build(db).prepare(name);
      nameStatement(query.getQuery().sql, name);
      byDb.set(db, query);
    }
    return query;
  };
}
