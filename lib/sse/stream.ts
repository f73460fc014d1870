import { isRunning } from "../replies/status";
import "server-only";
import { sessionNotFound } from "../chat/sessions";
import {
  getMessageByIdForUser,
  listRepliesByIdsForUser,
  listRunningRepliesByUser,
  listSessionStreamReplies,
} from "../db/queries";
import type { MessageRow } from "../db/schema";
import { currentLogContext, describeError, log } from "../log";
import type { ChunkStore, StreamEvent, Subscription } from "../streams/types";
import type { Cursor } from "./cursor";
import { catchUp, type Emit, liveStep, type Position, REPLAY_SLICE, type TrackedReply } from "./reply-tracker";

type StoreRead = Awaited<ReturnType<ChunkStore["readReply"]>>;
type ReplyRow = Pick<MessageRow, "id" | "sessionId" | "correlationId">;
type ReplyLookup = ReplyRow & Pick<MessageRow, "ord">;

export type StreamTarget = { kind: "session"; sessionId: string; userId: string } | { kind: "user"; userId: string };

export interface ReplyStreamOptions {
  store: ChunkStore;
  target: StreamTarget;
  cursors: Map<string, Cursor>;
  emit: Emit;
  /** Every reply this stream follows has ended (the one-session stream then closes). */
  onAllEnded: () => void;
  /** A step failed: the connection should end with `reconnect`. */
  onFailure: () => void;
}

export interface ReplayHooks {
  /**
   * The replay knows it will send something (the database said which replies; the store's reads
   * follow): the response can start. Before it, a failure (404) has sent nothing.
   */
  onLookedUp?: () => void;
  /** Awaited after each slice of the replay: the replay waits while the client is behind. */
  pace?: () => Promise<void>;
}

/** Slices of replays read and written at once in this process (each up to REPLAY_SLICE chunks). */
const REPLAY_PARALLEL = 4;
let replaying = 0;
const replayQueue: Array<() => void> = [];

/** Waits for one of the process's replay turns; returns its release (which may be called again). */
async function replayTurn(): Promise<() => void> {
  if (replaying >= REPLAY_PARALLEL) await new Promise<void>((resolve) => replayQueue.push(resolve));
  else replaying++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = replayQueue.shift();
    if (next) next();
    else replaying--;
  };
}

/**
 * One SSE connection's view of the replies it follows. Subscribes first, then replays from the
 * cursors, then applies live events, all through one serial chain: whatever the timing, each chunk
 * goes out once, in order, with no gap.
 */
export class ReplyStream {
  private readonly replies = new Map<string, TrackedReply>();
  private chain: Promise<void> = Promise.resolve();
  private subscription: Subscription | null = null;
  /** Subscriptions under the user ids that replies this stream follows are published as (see `listenAs`). */
  private readonly aliases = new Map<string, Subscription>();
  private closed = false;
  /** Steps queued on the chain and not yet finished (the replay counts as one). */
  private pending = 0;

  // The connection's ids, named on its lines: its steps run from the store's events, which carry
  // the context of whatever opened the store's connection, not this one's.
  private readonly logContext = currentLogContext();

  constructor(private readonly options: ReplyStreamOptions) {}

  /**
   * Subscribes and replays. False when there is nothing to send at all; throws a 404 AppError
   * (before anything was sent) for a session that is not the user's.
   */
  start(hooks: ReplayHooks = {}): Promise<boolean> {
    const { store, target, cursors } = this.options;
    this.subscription = store.subscribe(target, {
      onEvent: (event) => this.onEvent(event),
      onResync: () => this.enqueue(() => this.resync(0)),
    });
    const subscription = this.subscription;
    // The replay is the chain's first step: a live event that arrives while the replies are looked
    // up waits behind it, so it can never make a reply start over without its cursor.
    this.pending++;
    const replayed = this.chain.then(async () => {
      // The lookup runs beside the subscription; only the store's reads must wait for it.
      const early = this.readCursorReplyEarly(subscription.ready);
      const [rows] = await Promise.all([this.initialReplies(), subscription.ready]);
      // A reply whose end the client already has is not sent again.
      const initial = rows.filter((row) => !this.skipEnded(row));
      if (initial.length === 0 && target.kind === "session") return false;
      hooks.onLookedUp?.();
      // A slice of one reply at a time, each written before the next is read: what a connection
      // holds of its replay is one slice and what its socket has not taken yet, however many
      // replies it names and however long they are. The process's turn is given up while the
      // replay waits for its client, so a client that does not read holds up no other.
      for (const row of initial) {
        if (this.closed) break;
        let release = await replayTurn();
        const pace = async () => {
          release();
          await hooks.pace?.();
          release = await replayTurn();
          return !this.closed;
        };
        try {
          const firstRead = row.id === early?.messageId ? early.read : undefined;
          await this.follow(row, cursors.get(row.id) ?? null, firstRead, pace);
        } finally {
          release();
        }
        await hooks.pace?.();
      }
      this.checkAllEnded();
      return true;
    });
    const settle = () => {
      this.pending--;
    };
    this.chain = replayed.then(settle, settle);
    return replayed;
  }

  private onEvent(event: StreamEvent) {
    if (this.closed) return;
    // The common case, the next chunk of a reply this connection follows with nothing queued
    // ahead of it, is applied at once: no promise per reader per chunk.
    const reply = this.replies.get(event.messageId);
    if (this.pending === 0 && reply && event.type === "chunk") {
      if (liveStep(reply, event, this.emit)) this.enqueue(() => this.fillGap(reply, event));
      return;
    }
    this.enqueue(() => this.onLive(event));
  }

  private async initialReplies(): Promise<ReplyLookup[]> {
    const { target, cursors } = this.options;
    const ids = [...cursors.keys()];
    if (target.kind === "session") {
      // The rest of the cursor's reply, then every later reply of the session; with no cursor
      // of this session, its running replies. The same query says whether the session is the user's.
      const { sessionId, userId } = target;
      const { sessionFound, replies } = await listSessionStreamReplies({
        sessionId,
        userId,
        fromMessageId: ids[0] ?? null,
      });
      if (!sessionFound) throw sessionNotFound();
      return replies;
    }
    const [cursorRows, running] = await Promise.all([
      listRepliesByIdsForUser({ ids, userId: target.userId }),
      listRunningRepliesByUser({ userId: target.userId }),
    ]);
    const byId = new Map([...cursorRows, ...running].map((row) => [row.id, row]));
    return [...byId.values()].sort((a, b) => a.ord - b.ord);
  }

  /**
   * On a one-session stream, the cursor's reply is read from the store while the database says
   * which replies to send: a resume is then one round trip, not two. The read is used only for a
   * row the lookup returned (this user's, in this session); otherwise it is dropped.
   */
  private readCursorReplyEarly(ready: Promise<void>): { messageId: string; read: Promise<StoreRead> } | null {
    const { store, target, cursors } = this.options;
    const [cursor] = cursors.values();
    if (target.kind !== "session" || !cursor || cursor.ended) return null;
    const ref = { sessionId: target.sessionId, messageId: cursor.messageId };
    const read = ready.then(() => store.readReply(ref, cursor.seq, REPLAY_SLICE));
    read.catch(() => {}); // observed here; a failure surfaces where the read is used
    return { messageId: cursor.messageId, read };
  }

  /** Starts keeping what this connection has sent of a reply: up to `position`. */
  private track(row: ReplyRow, position: Position, ended = false): TrackedReply {
    const { id: messageId, sessionId, correlationId } = row;
    const reply = { sessionId, messageId, correlationId, ...position, ended, lastEventAt: Date.now() };
    this.replies.set(messageId, reply);
    return reply;
  }

  private skipEnded(row: ReplyRow): boolean {
    if (!this.options.cursors.get(row.id)?.ended) return false;
    this.track(row, { attempt: 0, seq: 0 }, true);
    return true;
  }

  private async follow(
    row: ReplyRow,
    cursor: Cursor | null,
    firstRead?: Promise<StoreRead>,
    pace?: () => Promise<boolean>,
  ) {
    if (this.replies.has(row.id)) return;
    const reply = this.track(row, { attempt: cursor?.attempt ?? 0, seq: cursor?.seq ?? 0 });
    await catchUp(this.options.store, reply, cursor, this.emit, () => this.loadRow(row.id), firstRead, pace);
    if (!reply.ended && reply.publishedAs && reply.publishedAs !== this.options.target.userId)
      this.listenAs(reply.publishedAs);
  }

  /**
   * Also listens to the events published under `userId`: a reply this stream follows (the
   * database says it is this user's) goes out under another user's id, a guest's that signed in to
   * this account while the reply was written. Only the replies followed are taken from there; what
   * came out before the subscription was ready is read from the store.
   */
  private listenAs(userId: string) {
    if (this.aliases.has(userId) || this.closed) return;
    const { target, store } = this.options;
    const channel =
      target.kind === "session"
        ? { kind: "session" as const, sessionId: target.sessionId, userId }
        : { kind: "user" as const, userId };
    const subscription = store.subscribe(channel, {
      onEvent: (event) => {
        if (this.replies.get(event.messageId)?.publishedAs === userId) this.onEvent(event);
      },
      onResync: () => this.enqueue(() => this.resync(0)),
    });
    this.aliases.set(userId, subscription);
    log.info("stream follows replies published under a merged guest", { ...this.logContext });
    this.enqueue(async () => {
      await subscription.ready;
      for (const reply of this.replies.values())
        if (!reply.ended && reply.publishedAs === userId) await this.catchUpFromHere(reply);
      this.checkAllEnded();
    });
  }

  private async onLive(event: StreamEvent) {
    const reply = this.replies.get(event.messageId);
    if (!reply) {
      const row = { id: event.messageId, sessionId: event.sessionId, correlationId: event.correlationId };
      if (event.type === "status" && isRunning(event.status)) {
        // A reply announced after we subscribed: queued, or an attempt starting with an empty list
        // (the store empties it and announces the attempt in one step). Nothing of it can have
        // come before this event, so it is followed from here with no read of the store: each
        // reader read it on its own before, and the first chunks of a reply with 300 readers
        // waited behind 300 reads.
        this.track(row, { attempt: event.attempt, seq: 0 });
        this.emit(event);
      } else {
        // A reply first seen mid-way (a chunk, a reset, an end): follow it from the store.
        await this.follow(row, null);
      }
    } else if (liveStep(reply, event, this.emit)) {
      await this.fillGap(reply, event);
    }
    this.checkAllEnded();
  }

  /** The event left a gap (a pub/sub message was lost or overtaken): fetch it, then apply the event. */
  private async fillGap(reply: TrackedReply, event: StreamEvent) {
    await this.catchUpFromHere(reply);
    liveStep(reply, event, this.emit);
  }

  /** Checks the store for replies quiet longer than `quietMs`, in case a pub/sub message was lost. */
  async resync(quietMs: number): Promise<void> {
    const now = Date.now();
    for (const reply of this.replies.values()) {
      if (reply.ended || now - reply.lastEventAt < quietMs) continue;
      reply.lastEventAt = now;
      await this.catchUpFromHere(reply);
    }
    this.checkAllEnded();
  }

  /** Sends what the store has beyond what this connection already sent of the reply. */
  private catchUpFromHere(reply: TrackedReply): Promise<void> {
    const position = { attempt: reply.attempt, seq: reply.seq };
    return catchUp(this.options.store, reply, position, this.emit, () => this.loadRow(reply.messageId));
  }

  enqueue(work: () => Promise<void>): void {
    this.pending++;
    this.chain = this.chain
      .then(() => (this.closed ? undefined : work()))
      .catch((error: unknown) => {
        // A step that failed (store or database away) cannot be skipped without a gap: ask the
        // client to come back with its cursor instead.
        log.error("stream step failed", { ...this.logContext, error: describeError(error) });
        this.options.onFailure();
      })
      .then(() => {
        this.pending--;
      });
  }

  private readonly emit: Emit = (event) => {
    if (!this.closed) this.options.emit(event);
  };

  private loadRow(messageId: string): Promise<MessageRow | null> {
    return getMessageByIdForUser({ id: messageId, userId: this.options.target.userId });
  }

  private checkAllEnded() {
    if (this.replies.size === 0) return;
    for (const reply of this.replies.values()) if (!reply.ended) return;
    this.options.onAllEnded();
  }

  close(): void {
    this.closed = true;
    this.subscription?.close();
    for (const subscription of this.aliases.values()) subscription.close();
  }
}
