// The tables of bench/lock-cost.ts, from its JSON: printed at the end of its run, and put into
// docs/benchmarks.md by `npm run bench -- --full` (the newest bench/results/*-lock-cost.json).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface LockCostRun {
  config: string;
  level: number;
  streamingSeconds: number;
  commandsPerSecond: number;
  commandsPerToken: number;
  idlePerSecond: number;
  byCommand: Record<string, number>;
  pgTransactions: number;
  pgRowsUpdated: number;
  walBytes: number;
  dbGrowthBytes: number;
  /** Replies with more than one attempt, and the attempts past the first (no fault is injected). */
  repliesRetried?: number;
  extraAttempts?: number;
  /** The machine's 1-minute load average at the run's end. */
  loadAverage?: number;
  cpu: Record<string, number>;
  p99: number;
  complete: boolean;
}

export interface LockCostFile {
  date: string;
  machine: string;
  levels: number[];
  reps: number;
  tokens: number;
  tps: number;
  configs: ReadonlyArray<{ name: string; env: Record<string, string> }>;
  runs: LockCostRun[];
  /** What the figures mean, written after the run (printed under its tables). */
  notes?: string[];
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(values.length, 1);
/** BullMQ's lock renewal: per job, a GET of its lock, a SET of it and an SREM from the stalled set. */
const LOCK_COMMANDS = ["get", "set", "srem"];

export function lockCostLines(data: LockCostFile): string[] {
  const lines = [
    "| replies | setting | n | Redis cmds/s while streaming | of them get + set + srem (lock renewal) | Redis cmds per token | idle cmds/s | Postgres transactions per run | rows updated /s | database growth MiB | CPU % web / worker / Redis / Postgres | delivery p99 ms | replies with a 2nd attempt | load average |",
    "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|",
  ];
  const summaries: string[] = [];
  // A run whose readers did not get every reply whole is left out of the means, and named.
  for (const run of data.runs.filter((r) => !r.complete))
    summaries.push(
      `left out: a ${run.level}-reply run of ${run.config}, incomplete at its readers (${run.repliesRetried ?? "?"} replies with a 2nd attempt, ${run.streamingSeconds} s from the last send to the last end, delivery p99 ${run.p99} ms, load average ${run.loadAverage ?? "?"})`,
    );
  for (const level of data.levels) {
    const of = (config: string) =>
      data.runs.filter((run) => run.level === level && run.config === config && run.complete);
    for (const config of data.configs) {
      const mine = of(config.name);
      if (!mine.length) continue;
      const m = (pick: (run: LockCostRun) => number, digits = 0) => mean(mine.map(pick)).toFixed(digits);
      const lock = (run: LockCostRun) => LOCK_COMMANDS.reduce((sum, name) => sum + (run.byCommand[name] ?? 0), 0);
      const cpu = ["web", "worker", "redis", "postgres"].map((name) => m((run) => run.cpu[name] ?? Number.NaN));
      lines.push(
        `| ${level} | ${config.name} | ${mine.length} | ${m((r) => r.commandsPerSecond)} | ${m(lock)} | ${m((r) => r.commandsPerToken, 3)} | ${m((r) => r.idlePerSecond, 1)} | ${m((r) => r.pgTransactions)} | ${m((r) => r.pgRowsUpdated / r.streamingSeconds)} | ${m((r) => r.dbGrowthBytes / 2 ** 20, 1)} | ${cpu.join(" / ")} | ${m((r) => r.p99, 1)} | ${data.runs
          .filter((r) => r.level === level && r.config === config.name)
          .map((r) => `${r.repliesRetried ?? "—"}${r.complete ? "" : " (left out)"}`)
          .join(", ")} | ${mine.map((r) => r.loadAverage ?? "—").join(", ")} |`,
      );
    }
    // By name: a run of some of the settings (--configs) has the others missing.
    const [fast, slow, noCheckpoints] = ["default", "lock 30000", "no ckpt"].map(of);
    if (fast?.length && slow?.length) {
      const perSecond = mean(fast.map((r) => r.commandsPerSecond)) - mean(slow.map((r) => r.commandsPerSecond));
      const perToken = mean(fast.map((r) => r.commandsPerToken)) - mean(slow.map((r) => r.commandsPerToken));
      const share = (perSecond / mean(slow.map((r) => r.commandsPerSecond))) * 100;
      const lockOf = (runs: LockCostRun[]) =>
        mean(runs.map((r) => LOCK_COMMANDS.reduce((sum, name) => sum + (r.byCommand[name] ?? 0), 0))) / level;
      summaries.push(
        `${level} replies: the 2 s lock costs ${Math.round(perSecond)} Redis commands/s more than the 30 s one (${share >= 0 ? "+" : ""}${share.toFixed(0)} %, ${perToken >= 0 ? "+" : ""}${perToken.toFixed(3)} per token); its renewals alone (get + set + srem) are ${lockOf(fast).toFixed(2)} commands per running reply per second against ${lockOf(slow).toFixed(2)}`,
      );
    }
    if (fast?.length && noCheckpoints?.length) {
      const xacts = mean(fast.map((r) => r.pgTransactions)) - mean(noCheckpoints.map((r) => r.pgTransactions));
      const seconds = mean(fast.map((r) => r.streamingSeconds));
      const rows =
        mean(fast.map((r) => r.pgRowsUpdated / r.streamingSeconds)) -
        mean(noCheckpoints.map((r) => r.pgRowsUpdated / r.streamingSeconds));
      const growth =
        mean(fast.map((r) => r.dbGrowthBytes)) / 2 ** 20 - mean(noCheckpoints.map((r) => r.dbGrowthBytes)) / 2 ** 20;
      summaries.push(
        `${level} replies: checkpoints add ${xacts.toFixed(0)} Postgres transactions per run (${(xacts / seconds).toFixed(2)}/s over ${seconds.toFixed(0)} s of streaming), ${rows.toFixed(0)} rows updated/s, ${growth.toFixed(1)} MiB of database growth per run`,
      );
    }
  }
  return [...lines, "", ...summaries.map((line) => `- ${line}.`), ...(data.notes ?? []).flatMap((note) => ["", note])];
}

/** The newest lock-cost result in `dir`, if any. */
export function latestLockCost(dir = "bench/results"): LockCostFile | null {
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith("-lock-cost.json"))
    .sort()
    .at(-1);
  return newest ? (JSON.parse(readFileSync(path.join(dir, newest), "utf8")) as LockCostFile) : null;
}
