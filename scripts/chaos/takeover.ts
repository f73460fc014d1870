// Takeover: how long a reply stood still after a fault before its text moved again, as its readers
// saw it. After a worker SIGKILL, the replies that worker was writing (they got no chunk in the
// first second after the kill) count from the kill; after Redis came back empty, every reply that
// was running when it went away counts from its return.
import { type Summary, summarize } from "../../bench/stats";
import type { SentReply } from "./driver";
import type { FaultRecord } from "./faults";
import type { AnyReader } from "./readers";

export interface Takeover {
  /** Seconds from the fault to the reply's next chunk, one sample per affected reply. */
  seconds: number[];
  /** The same samples with their reply, for a closer look at an outlier. */
  replies: Array<{ messageId: string; seconds: number }>;
  /** Affected replies whose text never moved again (their end is checked elsewhere). */
  neverResumed: number;
}

const RUNNING_WINDOW_MS = 1_500;
const SURVIVOR_WINDOW_MS = 1_000;

export function takeovers(replies: SentReply[], readers: AnyReader[], faults: FaultRecord) {
  const ids = replies.flatMap((reply) => (reply.sent ? [reply.sent.assistantMessageId] : []));
  const worker = faults.workerKilledAt;
  const down = faults.redisDownAt;
  const up = faults.redisUpAt;
  return {
    worker: worker === null ? empty() : measure(ids, readers, worker, worker, true),
    redis: down === null || up === null ? empty() : measure(ids, readers, down, up, false),
  };
}

function measure(ids: string[], readers: AnyReader[], faultAt: number, from: number, onlyStalled: boolean): Takeover {
  const result = empty();
  for (const id of ids) {
    const views = readers.flatMap((reader) => reader.views.get(id) ?? []);
    const chunks = views.flatMap((view) => view.chunks);
    const endedBefore = views.some((view) => view.end && view.end.at < faultAt);
    const running = chunks.some((chunk) => chunk.ts >= faultAt - RUNNING_WINDOW_MS && chunk.ts < faultAt);
    if (endedBefore || !running) continue;
    // A reply the surviving worker was writing went on within the second: not the killed worker's.
    if (onlyStalled && chunks.some((chunk) => chunk.ts >= faultAt && chunk.ts < faultAt + SURVIVOR_WINDOW_MS)) {
      continue;
    }
    const next = chunks.filter((chunk) => chunk.ts >= faultAt && chunk.at > from).map((chunk) => chunk.at);
    const ends = views.flatMap((view) =>
      view.end && view.end.kind !== "error" && view.end.at > from ? [view.end.at] : [],
    );
    const resumedAt = Math.min(...next, ...ends);
    if (Number.isFinite(resumedAt)) {
      result.seconds.push((resumedAt - from) / 1000);
      result.replies.push({ messageId: id, seconds: (resumedAt - from) / 1000 });
    } else result.neverResumed++;
  }
  return result;
}

function empty(): Takeover {
  return { seconds: [], replies: [], neverResumed: 0 };
}

/** p50/p95/p99/max in seconds (two decimals); NaN where there was no sample. */
export function inSeconds(takeover: Takeover): Summary {
  const summary = summarize(takeover.seconds.map((s) => s * 1000));
  const round = (ms: number) => Math.round(ms / 10) / 100;
  return {
    n: summary.n,
    p50: round(summary.p50),
    p95: round(summary.p95),
    p99: round(summary.p99),
    max: round(summary.max),
  };
}

/**
 * The longest a reply's text stood still after Redis came back: the largest gap between its chunks
 * as its worker wrote them (their `ts`, so a reader's own cuts do not count), from Redis's return
 * on, over the replies that were running when it went away (the first gap counts from its return).
 * The takeover above takes the first chunk only: a reply that went on for a few seconds and then
 * stood still again (its new job stopped by the old one) shows here.
 */
export function longestStall(replies: SentReply[], readers: AnyReader[], faults: FaultRecord) {
  const down = faults.redisDownAt;
  const up = faults.redisUpAt;
  let longest = { seconds: 0, messageId: null as string | null };
  if (down === null || up === null) return longest;
  for (const reply of replies) {
    const id = reply.sent?.assistantMessageId;
    if (!id) continue;
    const views = readers.flatMap((reader) => reader.views.get(id) ?? []);
    if (views.some((view) => view.end && view.end.at < down)) continue;
    const times = [...new Set(views.flatMap((view) => view.chunks.map((chunk) => chunk.ts)))].sort((a, b) => a - b);
    if (!times.some((ts) => ts < down)) continue;
    let previous = up;
    for (const ts of times.filter((t) => t >= up)) {
      if (ts - previous > longest.seconds * 1000) longest = { seconds: (ts - previous) / 1000, messageId: id };
      previous = ts;
    }
  }
  return longest;
}
