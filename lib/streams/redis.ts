import type { Redis } from "ioredis";
import type { RedisPort } from "../redis/port";
import { channelName, eventChannelOf, redisChannelOf } from "./events";
import {
  APPEND_FIELDS,
  APPEND_SCRIPT,
  CREATE_SCRIPT,
  FINISH_SCRIPT,
  READ_SCRIPT,
  REMOVE_SCRIPT,
  START_SCRIPT,
  STOP_SCRIPT,
} from "./redis-scripts";
import { SharedSubscriber } from "./redis-subscriber";
import type {
  AppendItem,
  AttemptReason,
  AttemptStart,
  Channel,
  ChunkStore,
  ChunkStoreOptions,
  FinishOutcome,
  ReplyInit,
  ReplyRef,
  ReplyState,
  ReplyStatus,
  StartedAttempt,
  StoredChunk,
  SubscribeHandlers,
  Subscription,
  TerminalEvent,
} from "./types";

export const replyHashKey = (ref: ReplyRef) => `chat:reply:${ref.sessionId}:${ref.messageId}`;
export const replyListKey = (ref: ReplyRef) => `chat:stream:${ref.sessionId}:${ref.messageId}`;
/** "<messageId>:<attempt>" of every generating reply's current attempt → the start of its chunk lines. */
export const RUNNING_KEY = "chat:running";
/** Present while Redis holds its data (see checkLoss). */
const ALIVE_KEY = "chat:alive";
/** Replies per append script call; a flush of more is several calls on one round trip. */
const APPEND_BATCH = 200;

function outcomeFields(outcome: FinishOutcome): string {
  const fields =
    outcome.status === "completed"
      ? { type: "done", usage: outcome.usage, latencyMs: outcome.latencyMs, ttftMs: outcome.ttftMs }
      : outcome.status === "error"
        ? { type: "error", code: outcome.code, message: outcome.message, retryable: outcome.retryable }
        : { type: "status", status: "cancelled" };
  return JSON.stringify(fields).slice(1, -1);
}

/**
 * A list item as the TCP port reads it, bytes: its text is decoded once. (As strings, a replay's
 * items were a second copy of every chunk, and most of them outlived V8's young generation.)
 */
function parseChunkBytes(item: Buffer | string, seq: number): StoredChunk {
  if (typeof item === "string") return parseChunk(item, seq);
  const colon = item.indexOf(58); // ":"
  return { seq, ts: Number(item.toString("latin1", 0, colon)), text: JSON.parse(item.toString("utf8", colon + 1)) };
}

function parseChunk(item: string, seq: number): StoredChunk {
  const colon = item.indexOf(":");
  return { seq, ts: Number(item.slice(0, colon)), text: JSON.parse(item.slice(colon + 1)) as string };
}

export class RedisChunkStore implements ChunkStore {
  readonly kind = "redis";
  private readonly subscriber: SharedSubscriber;

  /**
   * `port`: how commands reach Redis (a TCP connection, or Upstash's REST API for the web app);
   * `subscriberClient`: the process's pub/sub connection, always TCP.
   */
  constructor(
    private readonly port: RedisPort,
    subscriberClient: Redis,
    private readonly options: ChunkStoreOptions,
  ) {
    this.subscriber = new SharedSubscriber(subscriberClient);
  }

  async create(init: ReplyInit): Promise<void> {
    const { sessionId, messageId, userId, correlationId } = init;
    await this.port.run(
      CREATE_SCRIPT,
      [replyHashKey(init)],
      [sessionId, messageId, userId, correlationId, this.options.runningTtlSeconds],
    );
  }

  async startAttempt(reply: ReplyInit, attempt: number, start: AttemptStart = {}): Promise<StartedAttempt | null> {
    const result = (await this.port.run(
      START_SCRIPT,
      [replyHashKey(reply), replyListKey(reply), RUNNING_KEY],
      [
        reply.sessionId,
        reply.messageId,
        attempt,
        Date.now(),
        this.options.runningTtlSeconds,
        reply.userId,
        reply.correlationId,
        start.reason ?? "",
        ...(start.checkpoint ?? []).map((text) => JSON.stringify(text)),
      ],
    )) as Array<string | number> | null;
    if (!result) return null;
    const [continued, reason, ...items] = result;
    return {
      continued: Number(continued) === 1,
      reason: reason ? (String(reason) as AttemptReason) : null,
      kept: items.map((item, index) => parseChunk(String(item), index + 1)),
    };
  }

  async append(reply: ReplyInit, attempt: number, text: string, ts: number): Promise<number | null> {
    const [seq] = await this.appendMany([{ reply, attempt, text, ts }]);
    return seq ?? null;
  }

  async appendMany(items: readonly AppendItem[]): Promise<Array<number | null>> {
    const calls: Promise<number[]>[] = [];
    for (let start = 0; start < items.length; start += APPEND_BATCH) {
      const slice = items.slice(start, start + APPEND_BATCH);
      const keys: string[] = [RUNNING_KEY];
      const args: (string | number)[] = [this.options.runningTtlSeconds];
      for (const { reply, attempt, text, ts } of slice) {
        keys.push(replyListKey(reply));
        args.push(eventChannelOf(reply.userId), `${reply.messageId}:${attempt}`, JSON.stringify(text), ts);
      }
      if (args.length !== 1 + slice.length * APPEND_FIELDS) throw new Error("append: argument layout drifted");
      // Issued together, the calls share one round trip; each reply is in one call, so order holds.
      calls.push(this.port.run(APPEND_SCRIPT, keys, args) as Promise<number[]>);
    }
    const results = (await Promise.all(calls)).flat();
    return results.map((seq) => (seq > 0 ? seq : null));
  }

  async stop(ref: ReplyRef): Promise<StoredChunk[] | null> {
    const items = (await this.port.run(
      STOP_SCRIPT,
      [replyHashKey(ref), replyListKey(ref), RUNNING_KEY],
      [ref.messageId],
    )) as string[] | null;
    return items ? items.map((item, index) => parseChunk(String(item), index + 1)) : null;
  }

  async finish(ref: ReplyRef, attempt: number | null, outcome: FinishOutcome): Promise<TerminalEvent | null> {
    const json = (await this.port.run(
      FINISH_SCRIPT,
      [replyHashKey(ref), replyListKey(ref), RUNNING_KEY],
      [ref.sessionId, ref.messageId, attempt ?? "", outcome.status, outcomeFields(outcome), this.options.ttlSeconds],
    )) as string | null;
    return json ? (JSON.parse(json) as TerminalEvent) : null;
  }

  async getState(ref: ReplyRef): Promise<ReplyState | null> {
    return (await this.readReply(ref, Number.MAX_SAFE_INTEGER))?.state ?? null;
  }

  async readChunks(ref: ReplyRef, afterSeq: number, uptoSeq?: number): Promise<StoredChunk[]> {
    const start = Math.max(0, afterSeq);
    const stop = uptoSeq === undefined ? -1 : uptoSeq - 1;
    if (uptoSeq !== undefined && stop < start) return [];
    const items = (await this.port.command("LRANGE", replyListKey(ref), start, stop)) as string[];
    return items.map((item, index) => parseChunk(item, start + index + 1));
  }

  async readReply(
    ref: ReplyRef,
    afterSeq: number,
    limit?: number,
  ): Promise<{ state: ReplyState; chunks: StoredChunk[] } | null> {
    const start = Math.max(0, afterSeq);
    const last = limit === undefined ? -1 : start + Math.max(1, limit) - 1;
    // One script: the chunk count and the chunks always belong to the attempt read with them
    // (a new attempt empties the list and bumps the attempt in one script).
    const [fields, length, items] = (await this.port.runBytes(
      READ_SCRIPT,
      [replyHashKey(ref), replyListKey(ref)],
      [start, last],
    )) as [Array<Buffer | string>, number, Array<Buffer | string>];
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) hash[String(fields[i])] = String(fields[i + 1]);
    if (!hash.status || !hash.userId || !hash.correlationId) return null;
    const state: ReplyState = {
      sessionId: ref.sessionId,
      messageId: ref.messageId,
      userId: hash.userId,
      correlationId: hash.correlationId,
      status: hash.status as ReplyStatus,
      attempt: Number(hash.attempt ?? 0),
      seq: Number(length),
      startedAt: Number(hash.startedAt ?? 0),
      continued: hash.continued === "1",
      kept: Number(hash.kept ?? 0),
      reason: hash.reason ? (hash.reason as AttemptReason) : null,
      final: hash.final ? (JSON.parse(hash.final) as TerminalEvent) : null,
    };
    return { state, chunks: items.map((item, index) => parseChunkBytes(item, start + index + 1)) };
  }

  subscribe(channel: Channel, handlers: SubscribeHandlers): Subscription {
    return this.subscriber.subscribe(channelName(channel), redisChannelOf(channel), handlers);
  }

  /**
   * A marker key with no expiry: when it is gone, Redis lost its data (a restart without
   * persistence, a failover to an empty replica). One command per call.
   */
  async checkLoss(): Promise<boolean> {
    return (await this.port.command("SET", ALIVE_KEY, String(Date.now()), "NX")) === "OK";
  }

  async remove(ref: ReplyRef): Promise<void> {
    await this.port.run(REMOVE_SCRIPT, [replyHashKey(ref), replyListKey(ref), RUNNING_KEY], [ref.messageId]);
  }

  async close(): Promise<void> {}
}
