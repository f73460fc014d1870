// After the run: waits (bounded) for the database to hold every reply's end, checks every reply,
// prints the table and the problems found, and writes the figures as JSON.
import type { Guest, PlannedSession } from "./driver";
import type { FaultRecord } from "./faults";
import type { RunOptions } from "./options";
import type { AnyReader, RunState } from "./readers";
import { type Figures, PROBLEM_KINDS, table, writeFigures } from "./report";
import { inSeconds, longestStall, takeovers } from "./takeover";
import { checkOrder, checkReply, type Problem, readStored, type StoredMessage } from "./verdict";

interface RunResult {
  options: RunOptions;
  knobs: Record<string, string>;
  commit: string;
  runStartedAt: number;
  sessions: PlannedSession[];
  guests: Guest[];
  readers: AnyReader[];
  faults: FaultRecord;
  run: RunState;
  logDir: string;
}

const SHOWN_PROBLEMS = 40;

async function settledStore(result: RunResult): Promise<Map<string, StoredMessage>> {
  const ids = result.sessions.flatMap((s) => s.replies.flatMap((r) => (r.sent ? [r.sent.assistantMessageId] : [])));
  for (;;) {
    const stored = await readStored(result.sessions, result.guests);
    const running = ids.filter((id) => ["queued", "generating", undefined].includes(stored.get(id)?.status));
    if (running.length === 0 || Date.now() > result.run.deadline) return stored;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function sumReasons(readers: AnyReader[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const reader of readers) {
    for (const [reason, count] of Object.entries(reader.failureReasons)) total[reason] = (total[reason] ?? 0) + count;
  }
  return total;
}

export async function summarize(result: RunResult): Promise<Figures> {
  const { sessions, readers, faults, options } = result;
  const stored = await settledStore(result);
  const replies = sessions.flatMap((session) => session.replies);
  const problems: Problem[] = [
    ...replies.flatMap((reply) => checkReply(reply, readers, stored, faults)),
    ...sessions.flatMap((session) => checkOrder(session, readers)),
  ];
  const failures = Object.fromEntries(PROBLEM_KINDS.map((kind) => [kind, 0])) as Figures["failures"];
  for (const kind of PROBLEM_KINDS) {
    failures[kind] = new Set(problems.filter((p) => p.kind === kind).map((p) => p.reply)).size;
  }
  const views = readers.flatMap((reader) => [...reader.views.values()]);
  const storedCounts: Record<string, number> = {};
  for (const reply of replies) {
    const status = reply.sent ? (stored.get(reply.sent.assistantMessageId)?.status ?? "missing") : "unsent";
    storedCounts[status] = (storedCounts[status] ?? 0) + 1;
  }
  const takeover = takeovers(replies, readers, faults);
  const stat = (key: "randomCuts" | "burstCuts" | "failures" | "reconnectEvents" | "malformed") =>
    readers.reduce((sum, reader) => sum + reader.stats[key], 0);
  const figures: Figures = {
    mode: options.short ? "short" : "full",
    seed: options.seed,
    commit: result.commit,
    knobs: result.knobs,
    durationSeconds: (Date.now() - result.runStartedAt) / 1000,
    replies: replies.length,
    accepted: replies.filter((reply) => reply.sent).length,
    stored: storedCounts,
    faultsInjected: Object.values(faults.injected).reduce((sum, n) => sum + n, 0),
    faults: faults.injected,
    readerCuts: {
      random: stat("randomCuts"),
      inBursts: stat("burstCuts"),
      failedConnections: stat("failures"),
      reconnectEvents: stat("reconnectEvents"),
    },
    malformedEvents: stat("malformed"),
    failedConnections: sumReasons(readers),
    failures,
    resetsSeen: views.reduce((sum, view) => sum + view.resets.length, 0),
    textDroppingResets: views.reduce((sum, view) => sum + view.resets.filter((reset) => reset.hadText).length, 0),
    knownTextResets: problems.filter((p) => p.kind === "known_text_reset").length,
    snapshotsSeen: views.reduce((sum, view) => sum + view.snapshots, 0),
    continuationsSeen: views.reduce((sum, view) => sum + view.continuations, 0),
    takeover: {
      workerKill: {
        ...inSeconds(takeover.worker),
        neverResumed: takeover.worker.neverResumed,
        replies: takeover.worker.replies,
      },
      redisRestart: {
        ...inSeconds(takeover.redis),
        neverResumed: takeover.redis.neverResumed,
        replies: takeover.redis.replies,
        longestStall: longestStall(replies, readers, faults),
      },
    },
    timeline: faults.timeline,
    problems,
    passed: problems.length === 0 && stat("malformed") === 0 && replies.length > 0,
    logDir: result.logDir,
  };
  console.log("");
  console.log(table(figures));
  if (problems.length > 0) {
    console.log(`\n  problems (${problems.length}; the first ${Math.min(SHOWN_PROBLEMS, problems.length)}):`);
    for (const problem of problems.slice(0, SHOWN_PROBLEMS)) {
      console.log(`    ${problem.kind.padEnd(16)} ${problem.reply}  ${problem.detail}`);
    }
  }
  console.log(`\n  figures: ${writeFigures(figures, options.jsonPath)}`);
  return figures;
}
