import "server-only";
import { Gauge, type Metric, type Registry } from "prom-client";
import type { QueueStats } from "../queue/contracts";

// Pieces both registries use: the web's (lib/metrics.ts) and the worker's (lib/worker/metrics.ts).

/**
 * A histogram for a hot path: `observe` is a bucket search and three additions on plain numbers,
 * no label hashing and no object per call (prom-client's Histogram#observe allocates both). The
 * values are read as they stand at each scrape. No labels.
 */
export class TallyHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    this.counts = buckets.map(() => 0);
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    const { buckets, counts } = this;
    let index = 0;
    while (index < buckets.length && value > (buckets[index] as number)) index++;
    if (index < counts.length) counts[index] = (counts[index] as number) + 1;
    this.sum += value;
    this.count++;
  }

  get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    let cumulative = 0;
    this.buckets.forEach((le, index) => {
      cumulative += this.counts[index] as number;
      values.push({ labels: { le }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    values.push({ labels: { le: "+Inf" }, value: this.count, metricName: `${this.name}_bucket` });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/** Seconds, for waits from a few milliseconds to a minute. */
export const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The reply queue's depth by state and its oldest waiting job's age, read from the queue at each
 * scrape (BullMQ's counts, or the embedded queue's memory). A queue that cannot be read (Redis
 * away) says so in `backchannel_queue_readable` 0, and its job counts are left out of that scrape.
 */
export function registerQueueGauges(registry: Registry, stats: () => Promise<QueueStats>): void {
  let latest: Promise<QueueStats | null> | null = null;
  // Both gauges are collected in one scrape: one read of the queue serves the two.
  const read = () => {
    latest ??= stats()
      .catch(() => null)
      .finally(() => setTimeout(() => (latest = null), 100).unref());
    return latest;
  };
  new Gauge({
    name: "backchannel_queue_jobs",
    help: "Reply jobs in the queue, by state",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      this.reset();
      const s = await read();
      if (!s) return;
      for (const state of ["waiting", "active", "delayed", "failed"] as const) this.set({ state }, s[state]);
    },
  });
  new Gauge({
    name: "backchannel_queue_oldest_waiting_seconds",
    help: "Age of the oldest job waiting to start (0 when none waits)",
    registers: [registry],
    async collect() {
      this.reset();
      const s = await read();
      if (!s) return;
      this.set(s.oldestWaitingAt === null ? 0 : Math.max(0, (Date.now() - s.oldestWaitingAt) / 1000));
    },
  });
  new Gauge({
    name: "backchannel_queue_readable",
    help: "1 when the scrape could read the queue, 0 when not (the queue gauges are then stale or absent)",
    registers: [registry],
    async collect() {
      this.set((await read()) ? 1 : 0);
    },
  });
}
