import type { MessageRow } from "../db/schema";
import { endEventOfRow } from "../replies/end-events";
import { statusEventOf } from "../streams/events";
import type { ChunkStore, ReplyState, StoredChunk, StreamEvent, TerminalEvent } from "../streams/types";
import type { Cursor } from "./cursor";

export type Position = Pick<Cursor, "attempt" | "seq">;

import type { WireEvent } from "./sse";

/** What one SSE connection has sent of one reply. */
export interface TrackedReply {
  sessionId: string;
  messageId: string;
  correlationId: string;
  attempt: number;
  seq: number;
  ended: boolean;
  lastEventAt: number;
  /**
   * The user id the store publishes the reply's events under, when the store said (catchUp): the
   * asker's when it was sent. A guest who signs in to an account mid-reply gave the reply to the
   * account, but the worker goes on publishing it under the guest's id.
   */
  publishedAs?: string;
}

export type Emit = (event: WireEvent) => void;

/** Whether the store's chunks of the current attempt go on right after `from`. */
function placeable(from: Position, state: ReplyState): boolean {
  if (from.attempt === state.attempt) return from.seq <= state.seq;
  return from.attempt < state.attempt && state.continued && from.seq <= state.kept;
}

/** A replay reads a reply's chunks this many at a time, writing each slice before it reads the next. */
export const REPLAY_SLICE = 128;

/** Whether a cursor at `from` gets the whole text so far (it cannot be placed in the store's chunks). */
function needsSnapshot(from: Position | null, state: ReplyState): boolean {
  return from !== null && !placeable(from, state) && !(from.attempt < state.attempt && !state.continued);
}

/**
 * Brings a reply up to date from the store: what follows `from` (a cursor, or what this connection
 * already sent), then the end if it ended. With no cursor the reply is sent from its first event.
 * With `pace` (a replay), the chunks are read REPLAY_SLICE at a time and `pace` is awaited between
 * slices (false: stop, the connection is gone): a long reply is never read whole.
 */
export async function catchUp(
  store: ChunkStore,
  reply: TrackedReply,
  from: Position | null,
  emit: Emit,
  row: () => Promise<MessageRow | null>,
  /** The store's read after `from.seq`, when the caller started it already (a slice when paced). */
  firstRead?: Promise<Awaited<ReturnType<ChunkStore["readReply"]>>>,
  pace?: () => Promise<boolean>,
): Promise<void> {
  const ref = { sessionId: reply.sessionId, messageId: reply.messageId };
  // The common cases (no cursor, or one the store can place) are one read. A cursor of another
  // attempt, or one ahead of the store, needs the attempt from its start: a second read.
  let readAfter = from?.seq ?? 0;
  let limit = pace ? REPLAY_SLICE : undefined;
  let state: ReplyState;
  let chunks: StoredChunk[];
  for (let tries = 0; ; tries++) {
    if (tries === 5) throw new Error("the reply kept starting new attempts while it was read");
    const read = await (tries === 0 && firstRead ? firstRead : store.readReply(ref, readAfter, limit));
    if (!read) return catchUpFromDatabase(reply, from, emit, await row());
    const needed = from !== null && placeable(from, read.state) ? from.seq : 0;
    if (needed !== readAfter) {
      readAfter = needed;
      continue;
    }
    // A snapshot is the whole text so far: read whole (a rare case, a cursor the store cannot place).
    const whole = (read.chunks.at(-1)?.seq ?? readAfter) >= read.state.seq;
    if (limit !== undefined && !whole && needsSnapshot(from, read.state)) {
      limit = undefined;
      continue;
    }
    ({ state, chunks } = read);
    break;
  }
  const base = { sessionId: reply.sessionId, messageId: reply.messageId, correlationId: state.correlationId };
  reply.publishedAs = state.userId;
  let after = 0;
  if (!from) {
    if (!state.final) emit(statusEventOf(state));
  } else if (placeable(from, state)) {
    // A cursor of an earlier attempt, inside the text the current attempt continued: the client
    // hears that the attempt continued (so it keeps its text), then the chunks after its cursor.
    if (from.attempt < state.attempt) emit({ ...statusEventOf(state), status: "generating" });
    after = from.seq;
  } else if (from.attempt < state.attempt && !state.continued) {
    emit({ ...base, type: "reset", attempt: state.attempt });
  } else {
    // A cursor we cannot place (ahead of the store, or past the text a continued attempt kept):
    // send the whole text so far.
    const seq = chunks.at(-1)?.seq ?? 0;
    emit({ ...base, type: "snapshot", attempt: state.attempt, seq, content: chunks.map((c) => c.text).join("") });
    after = seq;
    chunks = [];
  }
  reply.attempt = state.attempt;
  reply.seq = after;
  for (;;) {
    for (const chunk of chunks) {
      emit({ ...base, type: "chunk", attempt: state.attempt, ...chunk });
      reply.seq = chunk.seq;
    }
    if (!pace || chunks.length === 0 || reply.seq >= state.seq) break;
    // The rest of a long reply, a slice at a time once the client has taken the last one.
    if (!(await pace())) return;
    const next = await store.readReply(ref, reply.seq, REPLAY_SLICE);
    // A new attempt started (or the reply went away) since the first slice: the live events that
    // announced it are queued behind the replay and bring the reply up to date from here.
    if (!next || next.state.attempt !== state.attempt) return;
    ({ state, chunks } = next);
  }
  if (state.final && (!pace || reply.seq >= state.seq)) endWith(reply, state.final, emit);
}

async function catchUpFromDatabase(reply: TrackedReply, from: Position | null, emit: Emit, row: MessageRow | null) {
  if (!row) return;
  const base = { sessionId: row.sessionId, messageId: row.id, correlationId: row.correlationId };
  const final = endEventOfRow(row, row.seq);
  if (!final) {
    // Running, but the store has nothing yet (the worker has not started it): announce its status.
    if (!from) emit({ ...base, type: "status", status: row.status, attempt: row.attempt });
    return;
  }
  // The chunks expired: the stored text is the whole reply.
  emit({ ...base, type: "snapshot", attempt: row.attempt, seq: row.seq, content: row.content });
  reply.attempt = row.attempt;
  reply.seq = row.seq;
  endWith(reply, final, emit);
}

export function endWith(reply: TrackedReply, final: TerminalEvent, emit: Emit) {
  if (reply.ended) return;
  reply.ended = true;
  emit(final);
}

/** Applies one live event; returns the chunk range to fetch first when the event left a gap. */
export function liveStep(
  reply: TrackedReply,
  event: StreamEvent,
  emit: Emit,
): { gapAfter: number; gapUpto: number } | null {
  reply.lastEventAt = Date.now();
  if (reply.ended || ("attempt" in event && event.attempt < reply.attempt)) return null;
  if (event.type === "reset") {
    if (event.attempt > reply.attempt) {
      reply.attempt = event.attempt;
      reply.seq = 0;
      emit(event);
    }
    return null;
  }
  if (event.attempt > reply.attempt && event.type !== "status") {
    // A later attempt's chunk or end before its start was seen here: the store says whether it
    // continued this text or restarted it.
    return { gapAfter: reply.seq, gapUpto: Number.MAX_SAFE_INTEGER };
  }
  switch (event.type) {
    case "chunk":
      if (event.seq <= reply.seq) return null;
      if (event.seq > reply.seq + 1) return { gapAfter: reply.seq, gapUpto: event.seq - 1 };
      reply.seq = event.seq;
      emit(event);
      return null;
    case "status":
      if (event.status === "cancelled") {
        if (event.seq !== undefined && event.seq > reply.seq) return { gapAfter: reply.seq, gapUpto: event.seq };
        endWith(reply, event as TerminalEvent, emit);
        return null;
      }
      if (event.attempt > reply.attempt) {
        // A continued attempt keeps the text up to its `seq`; a reader that had more than was
        // kept gets a snapshot from the store instead. A restarted one was preceded by `reset`.
        const kept = event.continued ? (event.seq ?? 0) : 0;
        if (reply.seq > kept) return { gapAfter: reply.seq, gapUpto: Number.MAX_SAFE_INTEGER };
        reply.attempt = event.attempt;
      }
      emit(event);
      return null;
    case "done":
    case "error":
      if (event.seq > reply.seq) return { gapAfter: reply.seq, gapUpto: event.seq };
      endWith(reply, event, emit);
      return null;
  }
}
