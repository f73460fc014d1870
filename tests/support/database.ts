import { closeDb, dbHandle } from "../../lib/db/client";

/**
 * Points this test process's database at `env` (the app's code opens it from the environment):
 * PGlite in `DATA_DIR`, or Postgres at `DATABASE_URL`, migrated.
 */
export async function pointDatabaseAt(env: { DATABASE_URL?: string; DATA_DIR?: string }): Promise<void> {
  await closeDb();
  delete process.env.DATABASE_URL;
  Object.assign(process.env, { LOG_LEVEL: "error", ...env });
  (globalThis as { __backchannelEnv?: unknown }).__backchannelEnv = undefined;
  await (await dbHandle()).migrate();
}
