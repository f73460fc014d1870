import type { Redis, Result } from "ioredis";
import { channelName } from "./events";
import { APPEND_SCRIPT, CREATE_SCRIPT, FINISH_SCRIPT, START_SCRIPT } from "./redis-scripts";
import { SharedSubscriber } from "./redis-subscriber";
import type {
  Channel,
  ChunkStore,
  ChunkStoreOptions,
  FinishOutcome,
  ReplyInit,
  ReplyRef,
  ReplyState,
  ReplyStatus,
  StoredChunk,
  SubscribeHandlers,
  Subscription,
  TerminalEvent,
} from "./types";

declare module "ioredis" {
  interface RedisCommander<Context> {
    bcCreate(hash: string, ...args: (string | number)[]): Result<number, Context>;
    bcStart(hash: string, list: string, ...args: (string | number)[]): Result<number, Context>;
    bcAppend(hash: string, list: string, ...args: (string | number)[]): Result<number, Context>;
    bcFinish(hash: string, list: string, ...args: (string | number)[]): Result<string | null, Context>;
  }
}

export const replyHashKey = (ref: ReplyRef) => `chat:reply:${ref.sessionId}:${ref.messageId}`;
export const replyListKey = (ref: ReplyRef) => `chat:stream:${ref.sessionId}:${ref.messageId}`;

function defineScripts(client: Redis) {
  if (typeof client.bcAppend === "function") return;
  client.defineCommand("bcCreate", { numberOfKeys: 1, lua: CREATE_SCRIPT });
  client.defineCommand("bcStart", { numberOfKeys: 2, lua: START_SCRIPT });
  client.defineCommand("bcAppend", { numberOfKeys: 2, lua: APPEND_SCRIPT });
  client.defineCommand("bcFinish", { numberOfKeys: 2, lua: FINISH_SCRIPT });
}

function outcomeFields(outcome: FinishOutcome): string {
  const fields =
    outcome.status === "completed"
      ? { type: "done", usage: outcome.usage, latencyMs: outcome.latencyMs, ttftMs: outcome.ttftMs }
      : outcome.status === "error"
        ? { type: "error", code: outcome.code, message: outcome.message, retryable: outcome.retryable }
        : { type: "status", status: "cancelled" };
  return JSON.stringify(fields).slice(1, -1);
}

function parseChunk(item: string, seq: number): StoredChunk {
  const colon = item.indexOf(":");
  return { seq, ts: Number(item.slice(0, colon)), text: JSON.parse(item.slice(colon + 1)) as string };
}

export class RedisChunkStore implements ChunkStore {
  readonly kind = "redis";
  private readonly subscriber: SharedSubscriber;

  constructor(
    private readonly client: Redis,
    subscriberClient: Redis,
    private readonly options: ChunkStoreOptions,
  ) {
    defineScripts(client);
    this.subscriber = new SharedSubscriber(subscriberClient);
  }

  async create(init: ReplyInit): Promise<void> {
    const { sessionId, messageId, userId, correlationId } = init;
    await this.client.bcCreate(
      replyHashKey(init),
      sessionId,
      messageId,
      userId,
      correlationId,
      this.options.runningTtlSeconds,
    );
  }

  async startAttempt(ref: ReplyRef, attempt: number): Promise<boolean> {
    const started = await this.client.bcStart(
      replyHashKey(ref),
      replyListKey(ref),
      ref.sessionId,
      ref.messageId,
      attempt,
      Date.now(),
      this.options.runningTtlSeconds,
    );
    return started === 1;
  }

  async append(ref: ReplyRef, attempt: number, text: string, ts: number): Promise<number | null> {
    const seq = await this.client.bcAppend(
      replyHashKey(ref),
      replyListKey(ref),
      ref.sessionId,
      ref.messageId,
      attempt,
      JSON.stringify(text),
      ts,
      this.options.runningTtlSeconds,
    );
    return seq > 0 ? seq : null;
  }

  async finish(ref: ReplyRef, attempt: number | null, outcome: FinishOutcome): Promise<TerminalEvent | null> {
    const json = await this.client.bcFinish(
      replyHashKey(ref),
      replyListKey(ref),
      ref.sessionId,
      ref.messageId,
      attempt ?? "",
      outcome.status,
      outcomeFields(outcome),
      this.options.ttlSeconds,
    );
    return json ? (JSON.parse(json) as TerminalEvent) : null;
  }

  async getState(ref: ReplyRef): Promise<ReplyState | null> {
    // One transaction, so the chunk count always belongs to the attempt read with it.
    const results = await this.client.multi().hgetall(replyHashKey(ref)).llen(replyListKey(ref)).exec();
    const hash = (results?.[0]?.[1] ?? {}) as Record<string, string>;
    const length = Number(results?.[1]?.[1] ?? 0);
    if (!hash.status || !hash.userId || !hash.correlationId) return null;
    return {
      sessionId: ref.sessionId,
      messageId: ref.messageId,
      userId: hash.userId,
      correlationId: hash.correlationId,
      status: hash.status as ReplyStatus,
      attempt: Number(hash.attempt ?? 0),
      seq: length,
      startedAt: Number(hash.startedAt ?? 0),
      final: hash.final ? (JSON.parse(hash.final) as TerminalEvent) : null,
    };
  }

  async readChunks(ref: ReplyRef, afterSeq: number, uptoSeq?: number): Promise<StoredChunk[]> {
    const start = Math.max(0, afterSeq);
    const stop = uptoSeq === undefined ? -1 : uptoSeq - 1;
    if (uptoSeq !== undefined && stop < start) return [];
    const items = await this.client.lrange(replyListKey(ref), start, stop);
    return items.map((item, index) => parseChunk(item, start + index + 1));
  }

  subscribe(channel: Channel, handlers: SubscribeHandlers): Subscription {
    const name = channelName(channel);
    return this.subscriber.subscribe(name, handlers);
  }

  async remove(ref: ReplyRef): Promise<void> {
    await this.client.del(replyHashKey(ref), replyListKey(ref));
  }

  async close(): Promise<void> {}
}
