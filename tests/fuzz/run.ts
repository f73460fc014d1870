// `npm run fuzz`: the fuzzer of tests/fuzz/fuzz.ts against the built app (`next build` first), in
// the embedded mode and the Redis mode. FUZZ_RUNS requests per mode (default 3000), FUZZ_SEED to
// replay a run, FUZZ_MODES=embedded or redis for one mode. Exits 1 on any failure.
import { type Mode, startApp } from "../support/app";
import { fuzzApp, seedOf, summary } from "./fuzz";

const runs = Number(process.env.FUZZ_RUNS ?? 3000);
const modes = (process.env.FUZZ_MODES ?? "embedded,redis").split(",") as Mode[];
const seed = seedOf();
let failed = false;
for (const mode of modes) {
  const app = await startApp(mode);
  try {
    const started = Date.now();
    const totals = await fuzzApp(app, { runs, seed });
    console.log(`${summary(totals)}\n  ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (totals.failures.length > 0) failed = true;
  } finally {
    await app.stop();
  }
}
process.exit(failed ? 1 : 0);
