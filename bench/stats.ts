export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? Number.NaN) };
}

export function table(rows: Array<[string, Summary]>): string {
  const lines = rows.map(
    ([name, s]) =>
      `${name.padEnd(58)} ${String(s.n).padStart(5)} ${String(s.p50).padStart(9)} ${String(s.p99).padStart(9)} ${String(s.max).padStart(9)}`,
  );
  return [
    `${"scenario (ms)".padEnd(58)} ${"n".padStart(5)} ${"p50".padStart(9)} ${"p99".padStart(9)} ${"max".padStart(9)}`,
    ...lines,
  ].join("\n");
}
