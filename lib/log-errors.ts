// What a log line may say of an error or a statement: never the SQL's parameters, never what a
// user wrote. drizzle wraps a failed statement in an error whose message is the whole SQL followed
// by its parameters (a message's content among them), and Postgres's own messages may quote a
// value ("invalid input syntax for type uuid: …"): a database error is told by its SQLSTATE, the
// constraint it broke and the statement's verb and tables.

const MAX_CHARS = 500;

/** An error's name and message without stack, SQL parameters or connection details, for log lines. */
export function describeError(error: unknown): string {
  const failed = failedQuery(error);
  if (failed) return `${describeDatabaseError(failed.cause)} in ${statementSummary(failed.query)}`;
  if (isDatabaseError(error)) return describeDatabaseError(error);
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, MAX_CHARS);
  return String(error).slice(0, MAX_CHARS);
}

/**
 * A statement as a log line may name it: its verb and the tables it reads or writes, in order
 * (`insert messages`, `select chat_sessions,messages`). No literal, no parameter.
 */
export function statementSummary(sqlText: string): string {
  const text = sqlText
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const verb = /^\(?\s*([a-z]+)/i.exec(text)?.[1]?.toLowerCase() ?? "statement";
  // drizzle quotes the tables it names; a statement written out may name a CTE unquoted.
  const quoted = tablesAfterKeywords(text, /\b(?:from|into|update|join)\s+"([^"]+)"/gi);
  const tables = quoted.length ? quoted : tablesAfterKeywords(text, /\b(?:from|into|update|join)\s+([a-z_]\w*)/gi);
  return tables.length ? `${verb} ${tables.slice(0, 4).join(",")}` : verb;
}

function tablesAfterKeywords(text: string, pattern: RegExp): string[] {
  const tables: string[] = [];
  for (const match of text.matchAll(pattern)) {
    const table = (match[1] ?? "").toLowerCase();
    if (table && !tables.includes(table)) tables.push(table);
  }
  return tables;
}

interface FailedQuery {
  query: string;
  cause: unknown;
}

/** drizzle's DrizzleQueryError (its class is not exported from the package's root in every build). */
function failedQuery(error: unknown): FailedQuery | null {
  if (!(error instanceof Error)) return null;
  const { query, params } = error as Error & { query?: unknown; params?: unknown };
  if (typeof query !== "string" || !Array.isArray(params)) return null;
  return { query, cause: error.cause };
}

interface DatabaseError {
  code: string;
  constraint?: string;
}

/** Postgres's error (postgres-js's PostgresError, PGlite's DatabaseError): a SQLSTATE and a severity. */
function isDatabaseError(error: unknown): error is Error & DatabaseError {
  if (!(error instanceof Error)) return false;
  const { code, severity } = error as Error & { code?: unknown; severity?: unknown };
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && typeof severity === "string";
}

function describeDatabaseError(error: unknown): string {
  if (!isDatabaseError(error)) {
    // Not Postgres's answer: the connection's (postgres-js names those with a code too).
    if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, MAX_CHARS);
    return "DatabaseError";
  }
  const named = error as Error & { constraint_name?: unknown; constraint?: unknown };
  const constraint = named.constraint_name ?? named.constraint;
  if (typeof constraint === "string") return `DatabaseError ${error.code} (${constraint})`;
  // A statement the schema does not fit (class 42: an unknown column, a wrong type) is a bug whose
  // message names identifiers only; the other classes' messages may quote a value.
  if (error.code.startsWith("42")) return `DatabaseError ${error.code} (${error.message.slice(0, 200)})`;
  return `DatabaseError ${error.code}`;
}
