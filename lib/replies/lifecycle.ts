import type { CheckpointWrite, ClaimedReply } from "../db/queries";
import type { MessageRow } from "../db/schema";
import { log } from "../log";
import type { GenerateReplyJob, ReplyQueue } from "../queue/contracts";
import type {
  AppendItem,
  AttemptStart,
  ChunkStore,
  FinishOutcome,
  ReplyInit,
  ReplyRef,
  StartedAttempt,
  StoredChunk,
} from "../streams/types";
import { currentTraceparent } from "../tracing/index";
import { failureMessage, outcomeOfRow } from "./end-events";
import type { ReplyRecords } from "./records";
import { isRunning, type ReplyStatus } from "./status";

// A reply's lifecycle, in one place. Every transition of a reply goes through here:
//
//   queue ─▶ claim ─▶ start attempt ─▶ append, checkpoint ─▶ complete | fail | cancel
//                         ▲                 │
//                         └── next attempt ◀┘ (a model error; or a lost worker or store,
//                                              found by requeueOrphans: the job runs again)
//
// Postgres is the arbiter of an end: whoever ends a running reply first (the worker completing or
// failing, a person cancelling) wins, and only the winner announces it in the store. Every end is
// then announced to readers (`announceEnd` repairs an end the store missed) and wakes the next
// reply of the session, which waits its turn. Chunks and checkpoints go through here too, fenced by
// the attempt; the worker only gathers them into batches (lib/worker/chunk-batcher.ts, checkpoints.ts).

export interface LifecycleDeps {
  store: ChunkStore;
  queue: ReplyQueue;
  records: ReplyRecords;
  /** ms since the epoch (a test may pass its own clock). */
  now?: () => number;
}

/** A reply as the lifecycle knows it: its ids. */
export type ReplyIdentity = Pick<MessageRow, "id" | "sessionId" | "userId" | "correlationId">;

/** What a claim came to: run an attempt, wait for an earlier reply of the session, or nothing. */
export type Claim =
  | { kind: "ended" }
  | { kind: "wait" }
  | {
      kind: "run";
      reply: ReplyIdentity & { createdAt: Date };
      attempt: number;
      turns: NonNullable<ClaimedReply["turns"]>;
      /** The text the database kept of the attempts before (its checkpoint), chunk by chunk. */
      checkpoint: string[];
      /** The chat's system prompt, and the model the reply was asked of (null: the default). */
      systemPrompt: string | null;
      model: string | null;
    };

export interface Completion {
  content: string;
  seq: number;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** When the reply's first chunk was written (ms since the epoch), if it had one. */
  firstChunkAt: number | null;
}

export interface Failure {
  code: string;
  message: string;
  retryable: boolean;
}

export interface TextSoFar {
  content: string;
  seq: number;
}

const refOf = (reply: Pick<ReplyIdentity, "id" | "sessionId">): ReplyRef => ({
  sessionId: reply.sessionId,
  messageId: reply.id,
});

const identityOf = (reply: ReplyIdentity): ReplyInit => ({
  sessionId: reply.sessionId,
  messageId: reply.id,
  userId: reply.userId,
  correlationId: reply.correlationId,
});

const jobOf = (reply: ReplyIdentity): GenerateReplyJob => {
  const traceparent = currentTraceparent();
  return {
    messageId: reply.id,
    sessionId: reply.sessionId,
    userId: reply.userId,
    correlationId: reply.correlationId,
    ...(traceparent ? { traceparent } : {}),
  };
};

const joined = (chunks: readonly Pick<StoredChunk, "text">[]): TextSoFar => ({
  content: chunks.map((chunk) => chunk.text).join(""),
  seq: chunks.length,
});

/** Job look-ups in flight at once while re-queueing (each is one Redis round trip; ioredis pipelines them). */
const REQUEUE_PARALLEL = 50;

export class ReplyLifecycle {
  private readonly now: () => number;

  constructor(private readonly deps: LifecycleDeps) {
    this.now = deps.now ?? Date.now;
  }

  get store(): ChunkStore {
    return this.deps.store;
  }

  // ── queue ─────────────────────────────────────────────────────────────────────────────────

  /**
   * A stored reply is announced `queued` and its job added. Side by side: a worker that takes the
   * job first registers the reply in the store itself, and the second registration changes
   * nothing. Throws when the store or the queue cannot be reached (the reply stays stored, queued).
   */
  async queue(reply: ReplyIdentity): Promise<void> {
    await Promise.all([this.deps.store.create(identityOf(reply)), this.deps.queue.enqueue(jobOf(reply))]);
  }

  // ── claim and attempts ────────────────────────────────────────────────────────────────────

  /**
   * A worker takes a reply's job: in one statement the database starts the reply's next attempt
   * when it runs and it is its turn in the session. A reply that ended (a repeated or stale job)
   * has its end announced, in case its worker died between recording and announcing it.
   */
  async claim(job: GenerateReplyJob): Promise<Claim> {
    const claimed = await this.deps.records.claimReply({ id: job.messageId });
    if (!claimed) return { kind: "ended" };
    if (!isRunning(claimed.status)) {
      const ended = await this.deps.records.getReplyById({ id: claimed.id });
      if (ended) await this.announceEnd(ended);
      return { kind: "ended" };
    }
    // Replies of a session run one at a time, in send order.
    if (claimed.firstInSession !== claimed.id) return { kind: "wait" };
    // It was its turn, yet no attempt started: the reply ended meanwhile (a cancel).
    if (claimed.attempt === null || claimed.turns === null) return { kind: "ended" };
    const { id, sessionId, userId, correlationId, createdAt } = claimed;
    return {
      kind: "run",
      reply: { id, sessionId, userId, correlationId, createdAt },
      attempt: claimed.attempt,
      turns: claimed.turns,
      checkpoint: claimed.checkpoint,
      systemPrompt: claimed.systemPrompt,
      model: claimed.model,
    };
  }

  /**
   * Starts (or, after the first, continues) an attempt in the store and announces it: a later
   * attempt continues the kept text (the store's, or `start.checkpoint` where the store lost it).
   * Null when the reply ended or a newer attempt runs.
   */
  async startAttempt(reply: ReplyIdentity, attempt: number, start: AttemptStart = {}): Promise<StartedAttempt | null> {
    const started = await this.deps.store.startAttempt(identityOf(reply), attempt, attempt > 1 ? start : {});
    if (started) {
      log.info("attempt started", {
        correlationId: reply.correlationId,
        messageId: reply.id,
        attempt,
        reason: started.reason,
        continued: started.continued,
        kept: started.kept.length,
      });
    }
    return started;
  }

  // ── the text: append and checkpoint ──────────────────────────────────────────────────────

  /**
   * Appends chunks of many replies' attempts, in one store call for all of them (the worker's
   * batcher gathers them). Fenced by the attempt: an item's seq is null where its attempt no longer
   * runs (the reply ended, a newer attempt took over, the store lost the reply), and its worker
   * then stops the model call.
   */
  appendMany(items: readonly AppendItem[]): Promise<Array<number | null>> {
    return this.deps.store.appendMany(items);
  }

  /**
   * Copies running replies' new text into the database, in one statement, fenced by the attempt
   * like the chunks: the ids whose copy landed (the others start their copy over whole). A store
   * that loses its data then loses at most one checkpoint interval of any reply's text.
   */
  checkpoint(writes: readonly CheckpointWrite[]): Promise<Set<string>> {
    return this.deps.records.extendReplyCheckpoints(writes);
  }

  /** The attempt after a failed one, in the database; null when the reply ended meanwhile. */
  nextAttempt(reply: ReplyIdentity): Promise<number | null> {
    return this.deps.records.startReplyAttempt({ id: reply.id });
  }

  /** An attempt that stopped without ending the reply (cancelled, or taken over): the session's next reply may go. */
  async release(reply: ReplyIdentity): Promise<void> {
    await this.wakeNext(reply.sessionId);
  }

  // ── ends ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Completes the reply from `attempt`: the database first, then `done`, so a reader that sees
   * `done` finds the stored reply complete; the same statement names the session's next reply.
   */
  async complete(reply: ReplyIdentity & { createdAt: Date }, attempt: number, result: Completion): Promise<boolean> {
    const acceptedAt = reply.createdAt.getTime();
    const latencyMs = Math.max(0, this.now() - acceptedAt);
    const ttftMs = result.firstChunkAt === null ? null : Math.max(0, result.firstChunkAt - acceptedAt);
    const usage = { inputTokens: result.inputTokens, outputTokens: result.outputTokens };
    const ended = await this.deps.records.completeReply({
      id: reply.id,
      attempt,
      outcome: { content: result.content, seq: result.seq, model: result.model, ...usage, ttftMs, latencyMs },
    });
    if (!ended) {
      // Someone ended it first (a cancel): make sure readers heard that end.
      await this.announceEndOf(reply.id);
      await this.wakeNext(reply.sessionId);
      return false;
    }
    await this.deps.store.finish(refOf(reply), attempt, { status: "completed", usage, latencyMs, ttftMs });
    log.info("reply completed", {
      correlationId: reply.correlationId,
      messageId: reply.id,
      attempt,
      latencyMs,
      ttftMs,
    });
    if (ended.nextId) await this.deps.queue.wake(ended.nextId).catch(() => {});
    return true;
  }

  /**
   * Ends the reply `error`, keeping the text it had (as the stream showed it). `attempt` null ends
   * it whatever attempt runs (the attempts were used up before one started).
   */
  async fail(reply: ReplyIdentity, attempt: number | null, failure: Failure, partial: TextSoFar): Promise<boolean> {
    const ended = await this.deps.records.endReply({
      id: reply.id,
      attempt,
      outcome: {
        status: "error",
        content: partial.content,
        seq: partial.seq,
        errorCode: failure.code,
        errorMessage: failure.message,
      },
    });
    if (ended) {
      await this.deps.store.finish(refOf(reply), null, { status: "error", ...failure });
      log.warn("reply failed", { correlationId: reply.correlationId, messageId: reply.id, code: failure.code });
    } else {
      await this.announceEndOf(reply.id);
    }
    await this.wakeNext(reply.sessionId);
    return ended !== null;
  }

  /**
   * Ends a reply whose attempts were used up (its worker died each time) before another starts:
   * with the text it has, from the store or else the checkpoint. True when this call ended it.
   */
  async giveUp(reply: ReplyIdentity, checkpoint: readonly string[]): Promise<boolean> {
    // No attempt starts in the store here, so the reply is registered there for its end to be
    // announced (the store may have lost it: a Redis restart, an expired key).
    await this.deps.store.create(identityOf(reply));
    const stored = await this.deps.store.readChunks(refOf(reply), 0);
    const kept = stored.length >= checkpoint.length ? joined(stored) : joined(checkpoint.map((text) => ({ text })));
    const failure = { code: "generation_failed", message: failureMessage("generation_failed"), retryable: true };
    return this.fail(reply, null, failure, kept);
  }

  /**
   * Stops a running reply, keeping its text. The store's text is stopped where it is first (the
   * worker's next write is refused, so it aborts the model call), the database records the end
   * with exactly that text, and only then is `cancelled` announced: a reader that sees it finds
   * the same text stored. Ending an ended reply answers its status and repairs its announcement.
   */
  async cancel(row: MessageRow): Promise<{ status: ReplyStatus }> {
    if (!isRunning(row.status)) {
      await this.announceEnd(row);
      return { status: row.status };
    }
    const ref = refOf(row);
    const stopped = await this.deps.store.stop(ref);
    // Where the store lost the reply, its checkpoint is the text it had.
    const kept = stopped && stopped.length >= row.seq ? joined(stopped) : { content: row.content, seq: row.seq };
    const ended = await this.deps.records.endReply({
      id: row.id,
      attempt: null,
      outcome: { status: "cancelled", content: kept.content, seq: kept.seq },
    });
    if (!ended) {
      // The worker ended it first (completed or failed): that end stands.
      const now = await this.deps.records.getReplyById({ id: row.id });
      if (now) await this.announceEnd(now);
      return { status: now?.status ?? row.status };
    }
    if (!stopped) await this.deps.store.create(identityOf(row));
    const final = await this.deps.store.finish(ref, null, { status: "cancelled" });
    if (final && final.seq !== kept.seq) {
      // A new attempt started between the stop and the end (a takeover at that very moment):
      // store the text readers were told of.
      await this.deps.records.setReplyContent({ id: row.id, ...joined(await this.deps.store.readChunks(ref, 0)) });
    }
    log.info("reply cancelled", { correlationId: row.correlationId, messageId: row.id, seq: final?.seq ?? kept.seq });
    await this.wakeNext(row.sessionId);
    return { status: "cancelled" };
  }

  // ── announce, wake, re-queue ──────────────────────────────────────────────────────────────

  /** Announces the end the database recorded, if the store has not (a lost race, a Redis blip, a crash). */
  async announceEnd(row: MessageRow): Promise<void> {
    const outcome: FinishOutcome | null = outcomeOfRow(row);
    if (!outcome) return;
    const ref = refOf(row);
    const state = await this.deps.store.getState(ref);
    if (!state || state.final) return;
    await this.deps.store.finish(ref, null, outcome);
    log.warn("announced an end the store had missed", {
      correlationId: row.correlationId,
      userId: row.userId,
      sessionId: row.sessionId,
      messageId: row.id,
    });
  }

  private async announceEndOf(id: string): Promise<void> {
    const row = await this.deps.records.getReplyById({ id });
    if (row) await this.announceEnd(row);
  }

  /** The session's next reply may run now (the one before it ended or stepped aside). */
  async wakeNext(sessionId: string): Promise<void> {
    const next = await this.deps.records.getNextReplyInSession({ sessionId });
    if (next) await this.deps.queue.wake(next).catch(() => {});
  }

  /**
   * Running replies that lost their job are queued again: the database says which replies still
   * run, and each one nothing has touched for `quietMs` that has no job (lost with a Redis that
   * restarted empty, failed after its worker died too often, or never added) runs again, in its
   * session's order, continuing from its checkpoint. No reply is ended here: a reply that keeps
   * failing ends through its attempts. `quietMs` 0 checks every running reply (the store just
   * lost its data).
   */
  async requeueOrphans(quietMs: number): Promise<{ requeued: string[] }> {
    const quiet = await this.deps.records.listQuietRunningReplies({ before: new Date(this.now() - quietMs) });
    const requeued: string[] = [];
    for (let from = 0; from < quiet.length; from += REQUEUE_PARALLEL) {
      const batch = quiet.slice(from, from + REQUEUE_PARALLEL);
      const added = await Promise.all(batch.map((reply) => this.deps.queue.requeue(jobOf(reply))));
      for (const [index, wasAdded] of added.entries()) {
        const reply = batch[index];
        if (!wasAdded || !reply) continue;
        requeued.push(reply.id);
        const { correlationId, userId, sessionId } = jobOf(reply);
        log.warn("orphaned reply queued again", { correlationId, userId, sessionId, messageId: reply.id });
      }
    }
    return { requeued };
  }

  /** Every running reply's job added (an embedded queue lives in memory: after a restart it is empty). */
  async queueAllRunning(): Promise<number> {
    const running = await this.deps.records.listAllRunningReplies();
    for (const reply of running) await this.deps.queue.enqueue(jobOf(reply));
    return running.length;
  }

  // ── reads ─────────────────────────────────────────────────────────────────────────────────

  /**
   * A reply's text as readers know it: the store's while it runs (or the checkpoint, where the
   * store has less: it lost the reply), the stored text once it ended.
   */
  async textSoFar(row: MessageRow): Promise<TextSoFar> {
    return (await this.readSoFar(row)).text;
  }

  /** `textSoFar` and the attempt it belongs to, from one read of the store (state and chunks together). */
  async readSoFar(row: MessageRow): Promise<{ text: TextSoFar; attempt: number }> {
    const stored = { text: { content: row.content, seq: row.seq }, attempt: row.attempt };
    if (!isRunning(row.status)) return stored;
    const read = await this.deps.store.readReply(refOf(row), 0);
    if (!read || read.chunks.length === 0 || read.chunks.length < row.seq) return stored;
    return { text: joined(read.chunks), attempt: read.state.attempt };
  }
}
