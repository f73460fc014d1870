// The chunk store: where a reply's text lives while it is written, and how readers are woken.
// It knows Redis (or memory) and nothing of Postgres, HTTP or the model.

import type {
  AttemptReason,
  ChunkEvent,
  DoneEvent,
  ErrorEvent,
  ReplyStatus,
  ResetEvent,
  StatusEvent,
} from "../contract";

export type { AttemptReason, ChunkEvent, DoneEvent, ErrorEvent, ReplyStatus, ResetEvent, StatusEvent };

export interface ReplyRef {
  sessionId: string;
  messageId: string;
}

export interface ReplyInit extends ReplyRef {
  userId: string;
  correlationId: string;
}

export interface ReplyState extends ReplyInit {
  status: ReplyStatus;
  attempt: number;
  /** Number of chunks of the current attempt; the last chunk's seq. */
  seq: number;
  /** ms since the epoch when the current attempt started, 0 while queued. */
  startedAt: number;
  /** The current attempt continues the text before it (no reset): its first `kept` chunks came from earlier attempts. */
  continued: boolean;
  kept: number;
  reason: AttemptReason | null;
  /** The reply's last event, once it ended. */
  final: TerminalEvent | null;
}

export interface AppendItem {
  reply: ReplyInit;
  attempt: number;
  text: string;
  ts: number;
}

export interface StoredChunk {
  seq: number;
  text: string;
  ts: number;
}

/** `status cancelled`, `done` or `error`: nothing of the reply follows it. `seq` is its final chunk count. */
export type TerminalEvent = DoneEvent | ErrorEvent | (StatusEvent & { status: "cancelled"; seq: number });
export type StreamEvent = StatusEvent | ChunkEvent | ResetEvent | DoneEvent | ErrorEvent;

export type FinishOutcome =
  | { status: "completed"; usage: DoneEvent["usage"]; latencyMs: number; ttftMs: number | null }
  | { status: "error"; code: string; message: string; retryable: boolean }
  | { status: "cancelled" };

/** "control" carries every cancellation, for workers to stop the model call. */
export type Channel =
  | { kind: "session"; sessionId: string; userId: string }
  | { kind: "user"; userId: string }
  | { kind: "control" };

export interface Subscription {
  /** Resolves once events published from now on are sure to reach the listener. */
  ready: Promise<void>;
  close(): void;
}

export interface SubscribeHandlers {
  onEvent(event: StreamEvent): void;
  /** The connection to the store was lost and is back: events may have been missed. */
  onResync?(): void;
}

export interface ChunkStore {
  readonly kind: "memory" | "redis";
  /** Registers a queued reply and announces it. A second call for the same reply changes nothing. */
  create(init: ReplyInit): Promise<void>;
  /**
   * Starts attempt `attempt` (1, 2, …) and announces `status generating`. From the second attempt
   * on the new attempt continues the text the store holds (`continued`, no reset, seq goes on);
   * when the store lost the reply, it is rebuilt from `start.checkpoint` (the chunks the database
   * kept, same boundaries), and only when neither has it does the attempt restart with `reset`.
   * A reply never created is registered here (a worker may take the job before the send's
   * `create`, which then changes nothing). Null when the reply ended or a newer attempt started.
   */
  startAttempt(reply: ReplyInit, attempt: number, start?: AttemptStart): Promise<StartedAttempt | null>;
  /** Appends text to the running attempt; its seq, or null when `attempt` is stale or the reply ended. */
  append(reply: ReplyInit, attempt: number, text: string, ts: number): Promise<number | null>;
  /** `append` for several replies at once (at most one item per reply): one round trip, in order. */
  appendMany(items: readonly AppendItem[]): Promise<Array<number | null>>;
  /**
   * Stops a running reply's text where it is, before its end is recorded elsewhere: every later
   * append of the current attempt is refused (its worker then stops), nothing is announced. The
   * reply's chunks; null when the store does not know the reply or it ended.
   */
  stop(ref: ReplyRef): Promise<StoredChunk[] | null>;
  /** Ends the reply (only from queued/generating, and only for the running attempt when one is given). */
  finish(ref: ReplyRef, attempt: number | null, outcome: FinishOutcome): Promise<TerminalEvent | null>;
  getState(ref: ReplyRef): Promise<ReplyState | null>;
  /** Chunks with seq > afterSeq (and ≤ uptoSeq when given) of the current attempt. */
  readChunks(ref: ReplyRef, afterSeq: number, uptoSeq?: number): Promise<StoredChunk[]>;
  /**
   * The reply's state and its current attempt's chunks with seq > afterSeq, read at one moment
   * (one round trip): the chunks always belong to the attempt the state names; at most `limit` of
   * them when given (a replay reads a long reply in slices). Null when unknown.
   */
  readReply(
    ref: ReplyRef,
    afterSeq: number,
    limit?: number,
  ): Promise<{ state: ReplyState; chunks: StoredChunk[] } | null>;
  subscribe(channel: Channel, handlers: SubscribeHandlers): Subscription;
  /**
   * True when the store has lost its data since the last call (a Redis restarted empty), and on
   * the first call of a process: the caller then re-queues what the database says still runs.
   */
  checkLoss(): Promise<boolean>;
  remove(ref: ReplyRef): Promise<void>;
  close(): Promise<void>;
}

export interface AttemptStart {
  /** Why the attempt starts; a store that had lost the reply says `store_lost` instead. */
  reason?: AttemptReason;
  /** The texts of the chunks the database checkpointed, in order (chunk 1 first). */
  checkpoint?: readonly string[];
}

export interface StartedAttempt {
  continued: boolean;
  reason: AttemptReason | null;
  /** The chunks the attempt continues from (empty for a first or restarted attempt). */
  kept: StoredChunk[];
}

export interface ChunkStoreOptions {
  /** Seconds a reply's keys live after it ends. */
  ttlSeconds: number;
  /** Seconds an unfinished reply's keys live (a safety net for replies nobody ends). */
  runningTtlSeconds: number;
}
