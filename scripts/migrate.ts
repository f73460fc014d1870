// npm run db:migrate — applies drizzle/ migrations to DATABASE_URL (or to the embedded PGlite in DATA_DIR).
import { closeDb, dbHandle } from "../lib/db/client";
import { env } from "../lib/env";

const handle = await dbHandle();
await handle.migrate();
console.log(`migrations applied (${handle.kind}${handle.kind === "pglite" ? ` in ${env().dataDir}` : ""})`);
await closeDb();
