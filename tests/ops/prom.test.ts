import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { TallyHistogram } from "../../lib/ops/prom";

// The tally histogram (the SSE delivery latency's, observed once per reader per chunk) must
// print exactly what prom-client's Histogram prints for the same observations.
describe("TallyHistogram", () => {
  it("writes the same buckets, sum and count as prom-client's Histogram", async () => {
    const buckets = [0.01, 0.1, 1];
    const ours = new Registry();
    const theirs = new Registry();
    const tally = new TallyHistogram("latency_seconds", "help", buckets, ours);
    const reference = new Histogram({ name: "latency_seconds", help: "help", buckets, registers: [theirs] });
    // On a bound, between bounds, past the last one, and zero.
    for (const value of [0, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 7]) {
      tally.observe(value);
      reference.observe(value);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('latency_seconds_bucket{le="0.01"} 2');
    expect(text).toContain('latency_seconds_bucket{le="+Inf"} 8');
    tally.reset();
    expect(await ours.metrics()).toContain("latency_seconds_count 0");
  });
});
