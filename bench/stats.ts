export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

export function table(rows: Array<[string, Summary]>): string {
  const columns = ["p50", "p95", "p99", "max"] as const;
  const lines = rows.map(
    ([name, s]) =>
      `${name.padEnd(62)} ${String(s.n).padStart(5)}${columns.map((c) => String(s[c]).padStart(9)).join("")}`,
  );
  return [
    `${"scenario (ms)".padEnd(62)} ${"n".padStart(5)}${columns.map((c) => c.padStart(9)).join("")}`,
    ...lines,
  ].join("\n");
}
