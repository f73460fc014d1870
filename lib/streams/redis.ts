import type { Cluster, Redis } from "ioredis";
import type { RedisPort } from "../redis/port";
import {
  CONTROL_CHANNEL,
  channelName,
  EVENT_SHARDS,
  eventChannelOf,
  groupChannelOf,
  groupOfSession,
  groupTagOf,
  redisChannelOf,
} from "./events";
import {
  APPEND_FIELDS,
  APPEND_SCRIPT,
  CREATE_SCRIPT,
  FINISH_SCRIPT,
  READ_SCRIPT,
  REMOVE_SCRIPT,
  START_SCRIPT,
  STOP_SCRIPT,
  scriptFor,
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

/**
 * Where a reply's keys and events are. On one Redis: the keys above, and a channel per user shard.
 * On a Redis Cluster every key a script touches shares the slot of the reply's group (events.ts):
 * `{chat-<n>}:reply:…`, `{chat-<n>}:stream:…`, the group's own running hash `{chat-<n>}:running`
 * and loss marker `{chat-<n>}:alive`, and the sharded channel `{chat-<n>}:events`.
 */
export interface KeyLayout {
  clustered: boolean;
  hash(ref: ReplyRef): string;
  list(ref: ReplyRef): string;
  running(ref: ReplyRef): string;
  /** The channel a reply's events are published on. */
  channel(reply: ReplyInit): string;
  /** The channels a listener needs. */
  channelsOf(channel: Channel): string[];
  /** The loss markers: one, or one per slot group (each group's master can lose its data alone). */
  alive: string[];
  /** Which append items may share a script call: the same value, the same slot. */
  batchOf(ref: ReplyRef): string;
}

export const SINGLE_LAYOUT: KeyLayout = {
  clustered: false,
  hash: replyHashKey,
  list: replyListKey,
  running: () => RUNNING_KEY,
  channel: (reply) => eventChannelOf(reply.userId),
  channelsOf: (channel) => [redisChannelOf(channel)],
  alive: [ALIVE_KEY],
  batchOf: () => "",
};

const tagOf = (ref: ReplyRef) => groupTagOf(groupOfSession(ref.sessionId));
const ALL_GROUP_CHANNELS = Array.from({ length: EVENT_SHARDS }, (_, group) => groupChannelOf(group));

export const CLUSTER_LAYOUT: KeyLayout = {
  clustered: true,
  hash: (ref) => `${tagOf(ref)}:reply:${ref.sessionId}:${ref.messageId}`,
  list: (ref) => `${tagOf(ref)}:stream:${ref.sessionId}:${ref.messageId}`,
  running: (ref) => `${tagOf(ref)}:running`,
  channel: (reply) => groupChannelOf(groupOfSession(reply.sessionId)),
  channelsOf: (channel) =>
    channel.kind === "control"
      ? [CONTROL_CHANNEL]
      : channel.kind === "session"
        ? [groupChannelOf(groupOfSession(channel.sessionId))]
        : ALL_GROUP_CHANNELS,
  alive: Array.from({ length: EVENT_SHARDS }, (_, group) => `${groupTagOf(group)}:alive`),
  batchOf: tagOf,
};

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

  /** The key layout: a cluster's, or one Redis's. */
  readonly layout: KeyLayout;
  /** The scripts as this Redis runs them (on a cluster: SPUBLISH on the group's channel). */
  private readonly scripts: Record<"create" | "start" | "append" | "finish" | "stop" | "remove" | "read", string>;

  /**
   * `port`: how commands reach Redis (a TCP connection, or Upstash's REST API for the web app);
   * `subscriberClient`: the process's pub/sub connection, always TCP.
   */
  constructor(
    private readonly port: RedisPort,
    subscriberClient: Redis | Cluster,
    private readonly options: ChunkStoreOptions,
  ) {
    this.layout = port.clustered ? CLUSTER_LAYOUT : SINGLE_LAYOUT;
    const lua = (script: string) => scriptFor(script, port.clustered);
    this.scripts = {
      create: lua(CREATE_SCRIPT),
      start: lua(START_SCRIPT),
      append: lua(APPEND_SCRIPT),
      finish: lua(FINISH_SCRIPT),
      stop: lua(STOP_SCRIPT),
      remove: lua(REMOVE_SCRIPT),
      read: lua(READ_SCRIPT),
    };
    this.subscriber = new SharedSubscriber(subscriberClient, undefined, port.clustered);
  }

  async create(init: ReplyInit): Promise<void> {
    const { sessionId, messageId, userId, correlationId } = init;
    await this.port.run(
      this.scripts.create,
      [this.layout.hash(init)],
      [sessionId, messageId, userId, correlationId, this.options.runningTtlSeconds],
    );
  }

  async startAttempt(reply: ReplyInit, attempt: number, start: AttemptStart = {}): Promise<StartedAttempt | null> {
    const result = (await this.port.run(
      this.scripts.start,
      [this.layout.hash(reply), this.layout.list(reply), this.layout.running(reply)],
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
    const { layout } = this;
    // Items of one slot (all of them on one Redis) go in the same calls, in order.
    const batches = new Map<string, number[]>();
    items.forEach((item, index) => {
      const key = layout.batchOf(item.reply);
      const batch = batches.get(key);
      if (batch) batch.push(index);
      else batches.set(key, [index]);
    });
    const calls: Array<Promise<void>> = [];
    const out: Array<number | null> = new Array(items.length).fill(null);
    for (const indexes of batches.values()) {
      for (let start = 0; start < indexes.length; start += APPEND_BATCH) {
        const slice = indexes.slice(start, start + APPEND_BATCH);
        const first = items[slice[0] ?? 0];
        if (!first) continue;
        const keys: string[] = [layout.running(first.reply)];
        const args: (string | number)[] = [this.options.runningTtlSeconds];
        for (const index of slice) {
          const { reply, attempt, text, ts } = items[index] as AppendItem;
          keys.push(layout.list(reply));
          args.push(layout.channel(reply), `${reply.messageId}:${attempt}`, JSON.stringify(text), ts);
        }
        if (args.length !== 1 + slice.length * APPEND_FIELDS) throw new Error("append: argument layout drifted");
        // Issued together, the calls share one round trip (per node, on a cluster); each reply is
        // in one call, so order holds.
        calls.push(
          (this.port.run(this.scripts.append, keys, args) as Promise<number[]>).then((seqs) => {
            seqs.forEach((seq, i) => {
              out[slice[i] as number] = seq > 0 ? seq : null;
            });
          }),
        );
      }
    }
    await Promise.all(calls);
    return out;
  }

  async stop(ref: ReplyRef): Promise<StoredChunk[] | null> {
    const items = (await this.port.run(
      this.scripts.stop,
      [this.layout.hash(ref), this.layout.list(ref), this.layout.running(ref)],
      [ref.messageId],
    )) as string[] | null;
    return items ? items.map((item, index) => parseChunk(String(item), index + 1)) : null;
  }

  async finish(ref: ReplyRef, attempt: number | null, outcome: FinishOutcome): Promise<TerminalEvent | null> {
    const json = (await this.port.run(
      this.scripts.finish,
      [this.layout.hash(ref), this.layout.list(ref), this.layout.running(ref)],
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
    const items = (await this.port.command("LRANGE", this.layout.list(ref), start, stop)) as string[];
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
      this.scripts.read,
      [this.layout.hash(ref), this.layout.list(ref)],
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
    return this.subscriber.subscribe(channelName(channel), this.layout.channelsOf(channel), handlers);
  }

  /**
   * A marker key with no expiry: when it is gone, Redis lost its data (a restart without
   * persistence, a failover to an empty replica). One command per call; on a cluster one per slot
   * group, since each master can lose its data alone (issued together: one round trip per node).
   */
  async checkLoss(): Promise<boolean> {
    const now = String(Date.now());
    const set = await Promise.all(this.layout.alive.map((key) => this.port.command("SET", key, now, "NX")));
    return set.some((answer) => answer === "OK");
  }

  async remove(ref: ReplyRef): Promise<void> {
    await this.port.run(
      this.scripts.remove,
      [this.layout.hash(ref), this.layout.list(ref), this.layout.running(ref)],
      [ref.messageId],
    );
  }

  async close(): Promise<void> {}
}
