import type { Sql } from "postgres";

/**
 * Takes an exclusive lock on `table` in a transaction of `admin` (a postgres-js client) and holds
 * it until the returned `release` is called, which ends the transaction: a stalled database, for
 * as long as a test needs one.
 */
export async function holdTableLock(admin: Sql, table: "messages"): Promise<() => Promise<void>> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked: () => void = () => {};
  const lockTaken = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holding = admin.begin(async (sql) => {
    await sql.unsafe(`lock table ${table} in access exclusive mode`);
    locked();
    await released;
  });
  holding.catch(() => {});
  await lockTaken;
  return async () => {
    release();
    await holding.catch(() => {});
  };
}
