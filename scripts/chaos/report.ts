// The run's figures: one table for a person, the same numbers as JSON for a test or a later look.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Summary } from "../../bench/stats";
import type { TimelineEntry } from "./faults";
import type { Problem, ProblemKind } from "./verdict";

export interface Figures {
  mode: "full" | "short";
  seed: number;
  commit: string;
  knobs: Record<string, string>;
  durationSeconds: number;
  replies: number;
  accepted: number;
  stored: Record<string, number>;
  faultsInjected: number;
  faults: Record<string, number>;
  readerCuts: { random: number; inBursts: number; failedConnections: number; reconnectEvents: number };
  /** SSE events whose data was not JSON. */
  malformedEvents: number;
  /** Reader connections that failed, by HTTP status or error code. */
  failedConnections: Record<string, number>;
  /** Replies with at least one problem of each kind. */
  failures: Record<ProblemKind, number>;
  resetsSeen: number;
  /** Resets that dropped text a reader had (the rest came before any text, e.g. for a `:0:0` cursor). */
  textDroppingResets: number;
  knownTextResets: number;
  snapshotsSeen: number;
  continuationsSeen: number;
  takeover: {
    workerKill: TakeoverFigures;
    /** With the longest time a running reply's text stood still after Redis came back. */
    redisRestart: TakeoverFigures & { longestStall: { seconds: number; messageId: string | null } };
  };
  timeline: TimelineEntry[];
  problems: Problem[];
  passed: boolean;
  logDir: string;
}

export type TakeoverFigures = Summary & {
  neverResumed: number;
  replies: Array<{ messageId: string; seconds: number }>;
};

export const PROBLEM_KINDS: ProblemKind[] = [
  "unsent",
  "lost",
  "doubled",
  "stuck",
  "wrong_end",
  "gap",
  "text_mismatch",
  "after_end",
  "stale_attempt",
  "known_text_reset",
  "order",
];

const LABELS: Record<ProblemKind, string> = {
  unsent: "unsent (no 202 in 60 s)",
  lost: "lost",
  doubled: "doubled",
  stuck: "stuck",
  wrong_end: "ended against the cancel",
  gap: "gaps",
  text_mismatch: "reader text != stored",
  after_end: "events after the end",
  stale_attempt: "chunks of an old attempt",
  known_text_reset: "resets of known text",
  order: "out of send order",
};

export function table(figures: Figures): string {
  const row = (label: string, value: string | number, note = "") =>
    `  ${label.padEnd(28)} ${String(value).padStart(6)}  ${note}`.trimEnd();
  const faultNote = Object.entries(figures.faults)
    .map(([name, count]) => `${name} ${count}`)
    .join(", ");
  const storedNote = Object.entries(figures.stored)
    .map(([status, count]) => `${count} ${status}`)
    .join(", ");
  const cuts = figures.readerCuts;
  const stall = figures.takeover.redisRestart.longestStall;
  const seconds = (s: TakeoverFigures) =>
    s.n === 0 ? "no sample" : `${s.p50} / ${s.p99} / ${s.max}  (n=${s.n}, ${s.neverResumed} never resumed)`;
  return [
    `chaos ${figures.mode}: seed ${figures.seed}, ${figures.durationSeconds.toFixed(0)} s, commit ${figures.commit}`,
    row("faults injected", figures.faultsInjected, faultNote),
    row(
      "reader connections cut",
      cuts.random + cuts.inBursts,
      `${cuts.random} at random, ${cuts.inBursts} in bursts; ${cuts.reconnectEvents} reconnect events`,
    ),
    row(
      "reader connections failed",
      cuts.failedConnections,
      Object.entries(figures.failedConnections)
        .map(([reason, count]) => `${reason} ${count}`)
        .join(", "),
    ),
    row("replies", figures.replies, `${figures.accepted} accepted; stored: ${storedNote}`),
    ...PROBLEM_KINDS.map((kind) => row(LABELS[kind], figures.failures[kind])),
    row("malformed events", figures.malformedEvents),
    row(
      "resets seen",
      figures.resetsSeen,
      `${figures.textDroppingResets} dropped a reader's text, ${figures.knownTextResets} of it text the app still had`,
    ),
    row("snapshots seen", figures.snapshotsSeen),
    row("continued attempts seen", figures.continuationsSeen),
    `  takeover (s) p50 / p99 / max`,
    `    after worker SIGKILL       ${seconds(figures.takeover.workerKill)}`,
    `    after Redis restart        ${seconds(figures.takeover.redisRestart)}`,
    `  longest stall after Redis    ${stall.seconds.toFixed(2)} s${stall.messageId ? `  (${stall.messageId})` : ""}`,
    figures.passed ? "  PASSED: no reply lost, doubled or stuck" : "  FAILED",
  ].join("\n");
}

/** Writes the figures as JSON (to `jsonPath`, or a dated file in the tmp dir) and returns the path. */
export function writeFigures(figures: Figures, jsonPath: string | null): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const file = jsonPath ?? path.join(tmpdir(), "backchannel-chaos", `${stamp}-${figures.mode}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  return file;
}
