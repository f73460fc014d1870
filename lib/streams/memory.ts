import { EventEmitter } from "node:events";
import { endEventOf } from "../replies/end-events";
import { isEnded } from "../replies/status";
import { CONTROL_CHANNEL, channelName, channelNames, statusEventOf } from "./events";
import { eventsReceived } from "./tally";
import type {
  AppendItem,
  AttemptStart,
  Channel,
  ChunkStore,
  ChunkStoreOptions,
  FinishOutcome,
  ReplyInit,
  ReplyRef,
  ReplyState,
  StartedAttempt,
  StoredChunk,
  StreamEvent,
  SubscribeHandlers,
  Subscription,
} from "./types";

interface MemoryReply {
  state: ReplyState;
  chunks: StoredChunk[];
  expiresAt: number;
  /** The current attempt's text was stopped (a cancel is being recorded): appends are refused. */
  stopped: boolean;
}

/** The embedded chunk store: one process, no Redis. Same semantics as the Redis store. */
export class MemoryChunkStore implements ChunkStore {
  readonly kind = "memory";
  private readonly replies = new Map<string, MemoryReply>();
  private readonly bus = new EventEmitter().setMaxListeners(0);
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly received = eventsReceived();

  constructor(private readonly options: ChunkStoreOptions) {
    this.sweepTimer = setInterval(() => this.sweepExpired(), 10_000);
    this.sweepTimer.unref();
  }

  private key(ref: ReplyRef) {
    return `${ref.sessionId}:${ref.messageId}`;
  }

  private live(ref: ReplyRef): MemoryReply | undefined {
    const reply = this.replies.get(this.key(ref));
    if (reply && reply.expiresAt <= Date.now()) {
      this.replies.delete(this.key(ref));
      return undefined;
    }
    return reply;
  }

  private publish(state: ReplyState, event: StreamEvent) {
    this.received[event.type] = (this.received[event.type] ?? 0) + 1;
    for (const channel of channelNames(state)) this.bus.emit(channel, event);
  }

  async create(init: ReplyInit): Promise<void> {
    if (this.live(init)) return;
    const { state } = this.add(init);
    this.publish(state, statusEventOf(state));
  }

  /** A new record for a queued reply. */
  private add(init: ReplyInit): MemoryReply {
    const state: ReplyState = {
      ...init,
      status: "queued",
      attempt: 0,
      seq: 0,
      startedAt: 0,
      continued: false,
      kept: 0,
      reason: null,
      final: null,
    };
    const reply = { state, chunks: [], expiresAt: Date.now() + this.options.runningTtlSeconds * 1000, stopped: false };
    this.replies.set(this.key(init), reply);
    return reply;
  }

  async startAttempt(ref: ReplyInit, attempt: number, start: AttemptStart = {}): Promise<StartedAttempt | null> {
    const found = this.live(ref);
    const reply = found ?? this.add(ref);
    if (isEnded(reply.state.status) || attempt <= reply.state.attempt) return null;
    reply.stopped = false;
    const now = Date.now();
    const checkpoint = start.checkpoint ?? [];
    if (checkpoint.length > reply.chunks.length) {
      reply.chunks = checkpoint.map((text, index) => ({ seq: index + 1, text, ts: now }));
    }
    // Same rule as the Redis script: what the store holds (or the checkpoint rebuilt) is the text
    // a later attempt continues; only a reply lost with no checkpoint restarts.
    const later = attempt > 1;
    const continued = later && (found !== undefined || reply.chunks.length > 0);
    if (!continued) reply.chunks = [];
    const reason = later ? (found ? (start.reason ?? null) : "store_lost") : null;
    const kept = reply.chunks.length;
    Object.assign(reply.state, { status: "generating", attempt, seq: kept, startedAt: now, continued, kept, reason });
    const base = { sessionId: ref.sessionId, messageId: ref.messageId, correlationId: reply.state.correlationId };
    if (later && !continued) this.publish(reply.state, { ...base, type: "reset", attempt });
    this.publish(reply.state, statusEventOf(reply.state));
    return { continued, reason, kept: reply.chunks.slice() };
  }

  async appendMany(items: readonly AppendItem[]): Promise<Array<number | null>> {
    return Promise.all(items.map((item) => this.append(item.reply, item.attempt, item.text, item.ts)));
  }

  async append(ref: ReplyRef, attempt: number, text: string, ts: number): Promise<number | null> {
    const reply = this.live(ref);
    if (reply?.state.status !== "generating" || reply.state.attempt !== attempt || reply.stopped) return null;
    const seq = reply.chunks.push({ seq: reply.chunks.length + 1, text, ts });
    reply.state.seq = seq;
    const { sessionId, messageId, correlationId } = reply.state;
    this.publish(reply.state, { type: "chunk", sessionId, messageId, correlationId, attempt, seq, text, ts });
    return seq;
  }

  async stop(ref: ReplyRef): Promise<StoredChunk[] | null> {
    const reply = this.live(ref);
    if (!reply || isEnded(reply.state.status)) return null;
    reply.stopped = true;
    return reply.chunks.slice();
  }

  async finish(ref: ReplyRef, attempt: number | null, outcome: FinishOutcome) {
    const reply = this.live(ref);
    if (!reply || isEnded(reply.state.status)) return null;
    if (attempt !== null && reply.state.attempt !== attempt) return null;
    const final = endEventOf(reply.state, reply.state.attempt, reply.state.seq, outcome);
    Object.assign(reply.state, { status: outcome.status, final });
    reply.expiresAt = Date.now() + this.options.ttlSeconds * 1000;
    this.publish(reply.state, final);
    if (outcome.status === "cancelled") this.bus.emit(CONTROL_CHANNEL, final);
    return final;
  }

  async getState(ref: ReplyRef): Promise<ReplyState | null> {
    const reply = this.live(ref);
    return reply ? { ...reply.state } : null;
  }

  async readChunks(ref: ReplyRef, afterSeq: number, uptoSeq?: number): Promise<StoredChunk[]> {
    const reply = this.live(ref);
    if (!reply) return [];
    return reply.chunks.slice(Math.max(0, afterSeq), uptoSeq);
  }

  async readReply(
    ref: ReplyRef,
    afterSeq: number,
    limit?: number,
  ): Promise<{ state: ReplyState; chunks: StoredChunk[] } | null> {
    const reply = this.live(ref);
    if (!reply) return null;
    const start = Math.max(0, afterSeq);
    const end = limit === undefined ? undefined : start + Math.max(1, limit);
    return { state: { ...reply.state }, chunks: reply.chunks.slice(start, end) };
  }

  subscribe(channel: Channel, handlers: SubscribeHandlers): Subscription {
    const name = channelName(channel);
    const listener = (event: StreamEvent) => handlers.onEvent(event);
    this.bus.on(name, listener);
    return { ready: Promise.resolve(), close: () => this.bus.off(name, listener) };
  }

  private checked = false;

  /** Memory is lost only with the process, and a new process starts with the first call. */
  async checkLoss(): Promise<boolean> {
    const first = !this.checked;
    this.checked = true;
    return first;
  }

  async remove(ref: ReplyRef): Promise<void> {
    this.replies.delete(this.key(ref));
  }

  /** Drops expired replies; the scheduled sweep calls it too. */
  sweepExpired(now = Date.now()): number {
    let removed = 0;
    for (const [key, reply] of this.replies) {
      if (reply.expiresAt <= now) {
        this.replies.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.bus.removeAllListeners();
  }
}
