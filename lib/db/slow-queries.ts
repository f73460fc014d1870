import "server-only";
import type { PGlite } from "@electric-sql/pglite";
import type { Sql } from "postgres";
import { env } from "../env";
import { log } from "../log";
import { statementSummary } from "../log-errors";

// Every statement of the app goes through its driver's one entry (postgres-js's `unsafe`, PGlite's
// `query`), in a transaction too: timed there, a statement slower than SLOW_QUERY_MS is a warning
// that names it (its prepared statement's name, else its verb and tables) and its duration, and
// never its parameters.

// On globalThis: Next bundles lib/db once per layer, and the copy whose driver runs the statements
// must see the names that another copy's `prepared` gave them.
const shared = globalThis as unknown as { __backchannelStatementNames?: Map<string, string> };
shared.__backchannelStatementNames ??= new Map();
const names = shared.__backchannelStatementNames;

/** The name a prepared statement of lib/db was given, for the slow-query line that shows its text. */
export function nameStatement(sqlText: string, name: string): void {
  names.set(sqlText, name);
}

function slowQueryMs(): number {
  try {
    return env().SLOW_QUERY_MS;
  } catch {
    return 100;
  }
}

function report(sqlText: string, startedAt: number) {
  const durationMs = performance.now() - startedAt;
  if (durationMs <= slowQueryMs()) return;
  const statement = names.get(sqlText) ?? statementSummary(sqlText);
  log.warn("slow query", { statement, durationMs: Math.round(durationMs * 10) / 10 });
}

type Thenable = PromiseLike<unknown>;

/**
 * postgres-js runs a query when it is first awaited and its `.values()` is called on the query
 * before that: the query stays the same object, its `then` notes when it settles.
 */
function timeQuery<Query extends Thenable>(query: Query, sqlText: string): Query {
  const startedAt = performance.now();
  const then = query.then;
  let reported = false;
  const settle = () => {
    if (reported) return;
    reported = true;
    report(sqlText, startedAt);
  };
  // biome-ignore lint/suspicious/noThenProperty: the query is a thenable already; this wraps its own `then`.
  Object.defineProperty(query, "then", {
    configurable: true,
    writable: true,
    value(this: Query, onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
      return then.call(
        this,
        (value) => {
          settle();
          return onFulfilled ? onFulfilled(value) : value;
        },
        (reason) => {
          settle();
          if (onRejected) return onRejected(reason);
          throw reason;
        },
      );
    },
  });
  return query;
}

type Callback = (sql: Sql) => unknown;

/** A postgres-js client (or transaction) whose statements are timed, its transactions' and savepoints' too. */
export function timedPostgres<Client extends Sql>(client: Client): Client {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key === "unsafe") {
        return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
          timeQuery(target.unsafe(query, params as never, options), query);
      }
      if (key === "begin" || key === "savepoint") {
        const open = Reflect.get(target, key, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const callback = args[last] as Callback;
          args[last] = (sql: Sql) => callback(timedPostgres(sql));
          return open.apply(target, args);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

type Queryable = Pick<PGlite, "query">;

/** A PGlite database (or transaction) whose statements are timed, its transactions' too. */
export function timedPglite<Client extends Queryable>(client: Client): Client {
  return new Proxy(client, {
    get(target, key) {
      if (key === "query") {
        return (query: string, params?: unknown[], options?: object) => {
          const startedAt = performance.now();
          return target.query(query, params, options).finally(() => report(query, startedAt));
        };
      }
      if (key === "transaction") {
        const transaction = (target as unknown as PGlite).transaction.bind(target);
        return (callback: (tx: Queryable) => Promise<unknown>) => transaction((tx) => callback(timedPglite(tx)));
      }
      // PGlite's methods read its private state: called on PGlite itself, never on the proxy.
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
