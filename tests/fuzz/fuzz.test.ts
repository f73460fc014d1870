import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { fuzzApp, seedOf, summary } from "./fuzz";

const modes: Mode[] = ["embedded", "redis"];
// A short run of `npm run fuzz` in every `npm test`; FUZZ_SEED replays one.
const RUNS = 300;

describe.each(modes)("fuzzed requests (%s mode)", (mode) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(mode);
  });
  afterAll(() => app?.stop());

  it(`answers ${RUNS} drawn requests without a 5xx, a hang, a malformed error or leaked internals`, async () => {
    const totals = await fuzzApp(app, { runs: RUNS, seed: seedOf() });
    expect(totals.failures, summary(totals)).toEqual([]);
    expect(totals.requests).toBeGreaterThanOrEqual(RUNS);
  }, 180_000);
});
