import "server-only";
import type { SQL } from "drizzle-orm";
import { getDb } from "../client";

/** The first row of a statement written out in SQL (postgres-js answers with the rows, PGlite with { rows }). */
export async function firstRow<Row>(query: SQL): Promise<Row | undefined> {
  const result = (await (await getDb()).execute(query)) as unknown as Row[] | { rows: Row[] };
  return (Array.isArray(result) ? result : result.rows)[0];
}
