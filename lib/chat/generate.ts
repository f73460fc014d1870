import "server-only";
import {
  claimReply,
  completeReply,
  endReply,
  getNextReplyInSession,
  getReplyById,
  startReplyAttempt,
} from "../db/queries";
import type { MessageRow } from "../db/schema";
import { type ChatTurn, LlmError, type LlmProvider } from "../llm/types";
import { describeError, log } from "../log";
import type { GenerateReplyJob, JobOutcome, ReplyQueue } from "../queue/contracts";
import type { AttemptReason, ChunkStore, ReplyInit, ReplyRef, StoredChunk } from "../streams/types";
import type { ReplyCheckpoints } from "./checkpoints";
import type { ChunkBatcher } from "./chunk-batcher";
import { reconcileEndedReply } from "./reconcile";
import type { RunningReplies } from "./running";

export interface GenerationDeps {
  store: ChunkStore;
  queue: ReplyQueue;
  llm: LlmProvider;
  running: RunningReplies;
  /** Gathers the process's chunks and writes them together. */
  batcher: ChunkBatcher;
  /** Copies each running reply's text into Postgres every few seconds. */
  checkpoints: ReplyCheckpoints;
  config: { maxAttempts: number; retryBackoffMs: number };
}

type AttemptResult =
  | {
      kind: "completed";
      content: string;
      seq: number;
      inputTokens: number;
      outputTokens: number;
      firstChunkAt: number | null;
    }
  | { kind: "failed"; error: LlmError; content: string; seq: number; chunks: string[] }
  | { kind: "stopped"; reason: "cancelled" | "shutdown" | "superseded" };

const RUNNING = new Set(["queued", "generating"]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes one reply. Safe to run twice for the same job (the job id is the reply's id): a reply that
 * already ended is left alone, and every write is fenced by the attempt number.
 */
export async function generateReply(job: GenerateReplyJob, deps: GenerationDeps): Promise<JobOutcome> {
  // One statement reads the reply, starts its attempt when it is its turn and reads the turns
  // before it; the store's start is the second round trip, and then the model runs.
  const claimed = await claimReply({ id: job.messageId });
  if (!claimed) return "finished";
  const { firstInSession, turns, attempt: claimedAttempt, ...reply } = claimed;
  if (!RUNNING.has(reply.status)) {
    // A worker may have recorded the end in Postgres and died before announcing it: announce it now.
    const ended = await getReplyById({ id: reply.id });
    if (ended) await reconcileEndedReply(ended, deps.store);
    return "finished";
  }
  // Replies of a session run one at a time, in send order.
  if (firstInSession !== reply.id) return "deferred";
  // It was its turn, yet no attempt started: the reply ended meanwhile (a cancel).
  // Every earlier reply of the session has ended, so the turns before this one are fixed.
  if (claimedAttempt === null || turns === null) return "finished";
  const ref = { sessionId: reply.sessionId, messageId: reply.id };

  let attempt: number | null = claimedAttempt;
  // A claim of a later attempt means the one before it ended without its worker (killed, or its
  // job lost): the new attempt continues the text the store (or else the checkpoint) kept.
  let start: { reason: AttemptReason; checkpoint: readonly string[] } = {
    reason: "worker_lost",
    checkpoint: claimed.checkpoint,
  };
  for (;;) {
    if (attempt === null) return "finished";
    if (attempt > deps.config.maxAttempts) {
      // No attempt starts in the store here, so the reply is registered there for its end to be
      // announced (the store may have lost it: a Redis restart, an expired key).
      await deps.store.create(identityOf(reply));
      const kept = await keptText(deps.store, ref, start.checkpoint);
      await fail(ref, reply, deps, null, TOO_MANY_ATTEMPTS, kept);
      return "finished";
    }
    const started = await deps.store.startAttempt(identityOf(reply), attempt, attempt > 1 ? start : {});
    if (!started) return "finished";
    log.info("attempt started", {
      correlationId: reply.correlationId,
      messageId: reply.id,
      attempt,
      reason: started.reason,
      continued: started.continued,
      kept: started.kept.length,
    });
    const result = await runAttempt(reply, attempt, turns, started.kept, deps);
    if (result.kind === "stopped") {
      // A shutdown hands the job back: the next run starts a new attempt. A cancel was recorded by
      // whoever cancelled; a superseded attempt belongs to another worker now.
      if (result.reason === "shutdown") return "deferred";
      await wakeNext(reply, deps);
      return "finished";
    }
    if (result.kind === "completed") {
      await complete(ref, reply, attempt, result, deps);
      return "finished";
    }
    const { error } = result;
    log.warn("attempt failed", { correlationId: reply.correlationId, messageId: reply.id, attempt, code: error.code });
    if (!error.retryable || attempt >= deps.config.maxAttempts) {
      const failure = { code: error.code, message: publicMessage(error), retryable: error.retryable };
      await fail(ref, reply, deps, attempt, failure, { content: result.content, seq: result.seq });
      return "finished";
    }
    const backoff = deps.config.retryBackoffMs * 2 ** (attempt - 1);
    await sleep(Math.max(backoff, error.retryAfterMs ?? 0));
    // The next attempt continues this one's text; this worker knows it best, should the store lose it.
    start = { reason: error.code === "rate_limited" ? "rate_limited" : "model_error", checkpoint: result.chunks };
    attempt = await startReplyAttempt({ id: reply.id });
  }
}

const TOO_MANY_ATTEMPTS = {
  code: "generation_failed",
  message: "The reply failed after several attempts.",
  retryable: true,
};

/** The text a reply has so far: the store's, or else the checkpoint's. */
async function keptText(store: ChunkStore, ref: ReplyRef, checkpoint: readonly string[]) {
  const chunks = await store.readChunks(ref, 0);
  const texts = chunks.length >= checkpoint.length ? chunks.map((chunk) => chunk.text) : checkpoint;
  return { content: texts.join(""), seq: texts.length };
}

/** What a worker knows of the reply it writes. */
type RunningReply = Pick<MessageRow, "id" | "sessionId" | "userId" | "correlationId" | "createdAt">;

function identityOf(reply: RunningReply): ReplyInit {
  return { sessionId: reply.sessionId, messageId: reply.id, userId: reply.userId, correlationId: reply.correlationId };
}

async function runAttempt(
  reply: RunningReply,
  attempt: number,
  turns: ChatTurn[],
  kept: StoredChunk[],
  deps: GenerationDeps,
): Promise<AttemptResult> {
  const running = deps.running.start(reply.id);
  const { signal } = running.controller;
  let seq = kept.length;
  let firstChunkAt: number | null = kept[0]?.ts ?? null;
  // The checkpoint holds the reply's text as it is written: the one copy this attempt keeps.
  const checkpoint = deps.checkpoints.open(
    reply.id,
    attempt,
    kept.map((chunk) => chunk.text),
  );
  const buffer = deps.batcher.open(identityOf(reply), attempt, (written, text, ts) => {
    if (written === null) {
      // The reply ended (cancelled), a newer attempt took over, or the store lost the reply: stop
      // the model call. What was written stays in the checkpoint for whoever continues.
      deps.running.stop(reply.id, "superseded");
      return;
    }
    seq = written;
    firstChunkAt ??= ts;
    checkpoint.add(text);
  });
  let completed = false;
  try {
    let usage = { inputTokens: 0, outputTokens: 0 };
    const continueFrom = checkpoint.content() || undefined;
    for await (const event of deps.llm.stream({ messages: turns, signal, attempt, continueFrom })) {
      if (event.type === "text") buffer.push(event.text);
      else usage = { inputTokens: event.inputTokens, outputTokens: event.outputTokens };
    }
    await buffer.flush();
    if (running.reason) return { kind: "stopped", reason: running.reason };
    completed = true;
    return { kind: "completed", content: checkpoint.content(), seq, firstChunkAt, ...usage };
  } catch (error) {
    buffer.discard();
    if (running.reason) return { kind: "stopped", reason: running.reason };
    const failed = { content: checkpoint.content(), seq, chunks: [...checkpoint.chunks()] };
    if (error instanceof LlmError) return { kind: "failed", error, ...failed };
    log.error("attempt crashed", {
      correlationId: reply.correlationId,
      messageId: reply.id,
      error: describeError(error),
    });
    return {
      kind: "failed",
      error: new LlmError("model_error", "The model call failed.", { retryable: true, cause: error }),
      ...failed,
    };
  } finally {
    deps.running.end(reply.id);
    // An attempt that did not complete leaves its text for the next one: saved now, not in a few seconds.
    await checkpoint.close(!completed);
  }
}

async function complete(
  ref: ReplyRef,
  reply: RunningReply,
  attempt: number,
  result: Extract<AttemptResult, { kind: "completed" }>,
  deps: GenerationDeps,
) {
  const acceptedAt = reply.createdAt.getTime();
  const latencyMs = Math.max(0, Date.now() - acceptedAt);
  const ttftMs = result.firstChunkAt === null ? null : Math.max(0, result.firstChunkAt - acceptedAt);
  // Postgres first, then `done`: a reader that sees `done` finds the stored reply complete. The
  // same statement touches the session and names its next reply.
  const ended = await completeReply({
    id: reply.id,
    attempt,
    outcome: {
      content: result.content,
      model: deps.llm.model,
      inputTokens: result.inputTokens,
      outputTokens: result.outputTokens,
      ttftMs,
      latencyMs,
      seq: result.seq,
    },
  });
  if (!ended) {
    await reconcileLost(reply, deps.store);
    await wakeNext(reply, deps);
    return;
  }
  const usage = { inputTokens: result.inputTokens, outputTokens: result.outputTokens };
  await deps.store.finish(ref, attempt, { status: "completed", usage, latencyMs, ttftMs });
  log.info("reply completed", { correlationId: reply.correlationId, messageId: reply.id, attempt, latencyMs, ttftMs });
  if (ended.nextId) await deps.queue.wake(ended.nextId).catch(() => {});
}

/** Another party ended the reply first (a cancel): make sure readers were told. */
async function reconcileLost(reply: RunningReply, store: ChunkStore) {
  const fresh = await getReplyById({ id: reply.id });
  if (fresh) await reconcileEndedReply(fresh, store);
}

async function fail(
  ref: ReplyRef,
  reply: RunningReply,
  deps: GenerationDeps,
  attempt: number | null,
  error: { code: string; message: string; retryable: boolean },
  partial: { content: string; seq: number } = { content: "", seq: 0 },
) {
  // The failed attempt's text stays, as the stream showed it.
  const ended = await endReply({
    id: reply.id,
    attempt,
    outcome: { status: "error", ...partial, errorCode: error.code, errorMessage: error.message },
  });
  if (ended) {
    await deps.store.finish(ref, null, { status: "error", ...error });
    log.warn("reply failed", { correlationId: reply.correlationId, messageId: reply.id, code: error.code });
  } else {
    await reconcileLost(reply, deps.store);
  }
  await wakeNext(reply, deps);
}

async function wakeNext(reply: RunningReply, deps: GenerationDeps) {
  const next = await getNextReplyInSession({ sessionId: reply.sessionId });
  if (next) await deps.queue.wake(next).catch(() => {});
}

function publicMessage(error: LlmError): string {
  switch (error.code) {
    case "rate_limited":
      return "The model is rate limited right now. Please try again in a moment.";
    case "overloaded":
    case "model_unavailable":
      return "The model is unavailable right now. Please try again.";
    case "bad_request":
      return "The model could not answer this conversation.";
    case "auth_failed":
      return "The server's model credentials were refused.";
    default:
      return "The reply could not be generated.";
  }
}
