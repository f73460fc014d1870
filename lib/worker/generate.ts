import "server-only";
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import { type ChatTurn, LlmError, type LlmProvider } from "../llm/types";
import { describeError, log } from "../log";
import type { GenerateReplyJob, JobMeta, JobOutcome } from "../queue/contracts";
import { failureMessage } from "../replies/end-events";
import type { ReplyIdentity, ReplyLifecycle } from "../replies/lifecycle";
import type { AttemptReason, ReplyInit, StoredChunk } from "../streams/types";
import { traceJob, traceModelCall } from "../tracing/index";
import type { ReplyCheckpoints } from "./checkpoints";
import type { ChunkBatcher } from "./chunk-batcher";
import { type WorkerMetrics, workerMetrics } from "./metrics";
import type { RunningReplies } from "./running";

export interface GenerationDeps {
  /** Every transition of the reply (claim, attempts, ends) goes through it. */
  lifecycle: ReplyLifecycle;
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes one reply: the worker's side of the lifecycle (lib/replies/), with the model call and its
 * retries. Safe to run twice for the same job (the job id is the reply's id): a reply that already
 * ended is left alone, and every write is fenced by the attempt number.
 */
export function generateReply(job: GenerateReplyJob, deps: GenerationDeps, meta?: JobMeta): Promise<JobOutcome> {
  return traceJob(job, async (span) => {
    const outcome = await runJob(job, deps, meta, span);
    span.setAttribute("backchannel.job_outcome", outcome);
    return outcome;
  });
}

async function runJob(job: GenerateReplyJob, deps: GenerationDeps, meta: JobMeta | undefined, span: Span) {
  const { lifecycle } = deps;
  const m = workerMetrics();
  // One statement reads the reply, starts its attempt when it is its turn and reads the turns
  // before it; the store's start is the second round trip, and then the model runs.
  const claim = await lifecycle.claim(job);
  if (claim.kind === "wait") return "deferred";
  if (claim.kind === "ended") return "finished";
  const { reply, turns } = claim;
  span.setAttribute("backchannel.attempt", claim.attempt);
  // The model the reply was asked of (the default when none), and the chat's system prompt.
  const call = { model: claim.model ?? deps.llm.model, system: claim.systemPrompt ?? undefined };
  let attempt: number | null = claim.attempt;
  // A claim of a later attempt means the one before it ended without its worker (killed, or its
  // job lost): the new attempt continues the text the store (or else the checkpoint) kept.
  let start: { reason: AttemptReason; checkpoint: readonly string[] } = {
    reason: "worker_lost",
    checkpoint: claim.checkpoint,
  };
  if (attempt > 1) m.takeovers.inc();
  let waited = false;
  for (;;) {
    if (attempt === null) return "finished";
    if (attempt > deps.config.maxAttempts) {
      if (await lifecycle.giveUp(reply, start.checkpoint)) m.replies.inc({ status: "error" });
      return "finished";
    }
    const started = await lifecycle.startAttempt(reply, attempt, start);
    if (!started) return "finished";
    if (!waited && meta) m.queueWait.observe(Math.max(0, Date.now() - meta.queuedAt) / 1000);
    waited = true;
    if (started.continued) m.continuations.inc({ reason: started.reason ?? start.reason });
    const result = await runAttempt(reply, attempt, turns, started.kept, deps, call, m);
    if (result.kind === "stopped") {
      // A shutdown hands the job back: the next run starts a new attempt. A cancel was recorded by
      // whoever cancelled; a superseded attempt belongs to another worker now.
      if (result.reason === "shutdown") return "deferred";
      if (result.reason === "cancelled") m.replies.inc({ status: "cancelled" });
      await lifecycle.release(reply);
      return "finished";
    }
    if (result.kind === "completed") {
      if (await lifecycle.complete(reply, attempt, { ...result, model: call.model })) {
        m.replies.inc({ status: "done" });
        m.tokens.inc({ direction: "input" }, result.inputTokens);
        m.tokens.inc({ direction: "output" }, result.outputTokens);
      }
      return "finished";
    }
    const { error } = result;
    log.warn("attempt failed", { correlationId: reply.correlationId, messageId: reply.id, attempt, code: error.code });
    if (!error.retryable || attempt >= deps.config.maxAttempts) {
      const failure = { code: error.code, message: failureMessage(error.code), retryable: error.retryable };
      if (await lifecycle.fail(reply, attempt, failure, { content: result.content, seq: result.seq })) {
        m.replies.inc({ status: "error" });
      }
      return "finished";
    }
    m.retries.inc({ code: error.code });
    const backoff = deps.config.retryBackoffMs * 2 ** (attempt - 1);
    await sleep(Math.max(backoff, error.retryAfterMs ?? 0));
    // The next attempt continues this one's text; this worker knows it best, should the store lose it.
    start = { reason: error.code === "rate_limited" ? "rate_limited" : "model_error", checkpoint: result.chunks };
    attempt = await lifecycle.nextAttempt(reply);
  }
}

/** What a worker knows of the reply it writes. */
type RunningReply = ReplyIdentity;

function identityOf(reply: RunningReply): ReplyInit {
  return { sessionId: reply.sessionId, messageId: reply.id, userId: reply.userId, correlationId: reply.correlationId };
}

async function runAttempt(
  reply: RunningReply,
  attempt: number,
  turns: ChatTurn[],
  kept: StoredChunk[],
  deps: GenerationDeps,
  call: { model: string; system: string | undefined },
  m: WorkerMetrics,
): Promise<AttemptResult> {
  const calledAt = Date.now();
  const traced = { ...call, provider: deps.llm.name, correlationId: reply.correlationId, messageId: reply.id, attempt };
  return traceModelCall(traced, async (span) => {
    const result = await callModel(reply, attempt, turns, kept, deps, call, m);
    const outcome =
      result.kind === "completed" ? "completed" : result.kind === "failed" ? result.error.code : result.reason;
    m.modelCall.observe({ outcome }, (Date.now() - calledAt) / 1000);
    span.setAttribute("backchannel.outcome", outcome);
    if (result.kind === "completed") {
      span.setAttributes({
        "gen_ai.usage.input_tokens": result.inputTokens,
        "gen_ai.usage.output_tokens": result.outputTokens,
      });
    } else if (result.kind === "failed") span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.code });
    return result;
  });
}

async function callModel(
  reply: RunningReply,
  attempt: number,
  turns: ChatTurn[],
  kept: StoredChunk[],
  deps: GenerationDeps,
  call: { model: string; system: string | undefined },
  m: WorkerMetrics,
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
      deps.running.stopRun(running, "superseded");
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
    const request = { messages: turns, signal, attempt, continueFrom, model: call.model, system: call.system };
    const calledAt = Date.now();
    let firstText = true;
    const onText = (text: string) => {
      if (firstText) {
        firstText = false;
        m.firstToken.observe((Date.now() - calledAt) / 1000);
      }
      buffer.push(text);
    };
    // Pushed when the provider can (no promise per event); read through its iterator otherwise.
    if (deps.llm.streamText) usage = await deps.llm.streamText(request, onText);
    else {
      for await (const event of deps.llm.stream(request)) {
        if (event.type === "text") onText(event.text);
        else usage = { inputTokens: event.inputTokens, outputTokens: event.outputTokens };
      }
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
    deps.running.end(reply.id, running);
    // An attempt that did not complete leaves its text for the next one: saved now, not in a few seconds.
    await checkpoint.close(!completed);
  }
}
