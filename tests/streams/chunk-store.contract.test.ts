import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { newRedisClient } from "../../lib/redis/connections";
import { type RedisPort, restPort, tcpPort } from "../../lib/redis/port";
import { EVENT_SHARDS, eventChannelOf, groupOfSession, userListenerName } from "../../lib/streams/events";
import { MemoryChunkStore } from "../../lib/streams/memory";
import { CLUSTER_LAYOUT, RedisChunkStore, RUNNING_KEY } from "../../lib/streams/redis";
import { SharedSubscriber } from "../../lib/streams/redis-subscriber";
import type { ChunkStore, StreamEvent } from "../../lib/streams/types";
import { readReplyUntilEnd } from "../support/reader";
import { startOwnCluster } from "../support/redis-cluster";
import { TEST_REDIS_URL } from "../support/services";
import { startUpstashRest } from "../support/upstash-rest";

const options = { ttlSeconds: 1, runningTtlSeconds: 60 };
const redisClients: Redis[] = [];

// The same Redis behind Upstash's REST protocol: the web app's commands over HTTP (its pub/sub stays TCP).
const upstash = await startUpstashRest(TEST_REDIS_URL);
const subscriberNames = new WeakMap<ChunkStore, string>();

/** A Redis store whose commands go over TCP (ioredis), or over REST (`@upstash/redis`). */
function newRedisStore(transport: "tcp" | "rest" = "tcp"): ChunkStore {
  const client = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const subscriberName = `contract-sub-${randomUUID()}`;
  const subscriber = new Redis(TEST_REDIS_URL, { connectionName: subscriberName });
  redisClients.push(client, subscriber);
  const port: RedisPort = transport === "tcp" ? tcpPort(client) : restPort(upstash, 3_000);
  const store = new RedisChunkStore(port, subscriber, options);
  subscriberNames.set(store, subscriberName);
  return store;
}

// A three-master cluster of this file's own: the store's keys of one script share a slot there.
const cluster = await startOwnCluster();
const clusterClients: Cluster[] = [];

function newClusterStore(): RedisChunkStore {
  // The clients as the app makes them (the worker's options; the subscriber SSUBSCRIBEs on the
  // master that owns each channel).
  const target = `cluster:${cluster.nodes}`;
  const client = newRedisClient(target, { maxRetriesPerRequest: null, enableAutoPipelining: true }) as Cluster;
  const subscriber = newRedisClient(target, {}, { shardedSubscribers: true }) as Cluster;
  clusterClients.push(client, subscriber);
  return new RedisChunkStore(tcpPort(client), subscriber, options);
}

afterAll(async () => {
  await Promise.all(redisClients.map((client) => client.quit()));
  await Promise.all(clusterClients.map((client) => client.quit().catch(() => client.disconnect())));
  await cluster.stop();
  await upstash.close();
});

/**
 * Channels a store's subscriber connection is subscribed to, as Redis counts them; on the
 * cluster, the sharded subscriptions its masters count.
 */
async function subscriptionsOf(store: ChunkStore): Promise<number> {
  if (!(store instanceof RedisChunkStore) || !store.layout.clustered)
    return subscribedChannels(subscriberNames.get(store) ?? "");
  let total = 0;
  for (const port of cluster.ports) {
    const node = new Redis(port, "127.0.0.1");
    const clients = (await node.client("LIST")) as string;
    node.disconnect();
    for (const line of clients.split("\n")) total += Number(/ ssub=(\d+) /.exec(line)?.[1] ?? 0);
  }
  return total;
}

/** Channels a subscriber connection (by its name) is subscribed to, as Redis counts them. */
async function subscribedChannels(name: string): Promise<number> {
  const clients = (await redisClients[0]?.client("LIST")) as string;
  const line = clients.split("\n").find((entry) => entry.includes(`name=${name}`));
  return Number(/ sub=(\d+) /.exec(line ?? "")?.[1]);
}

const implementations: Array<[string, () => ChunkStore]> = [
  ["memory", () => new MemoryChunkStore(options)],
  ["redis", () => newRedisStore("tcp")],
  ["redis over Upstash REST", () => newRedisStore("rest")],
  ["redis cluster", newClusterStore],
];

function newReply() {
  return { sessionId: randomUUID(), messageId: randomUUID(), userId: randomUUID(), correlationId: randomUUID() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const done = { status: "completed" as const, usage: { inputTokens: 1, outputTokens: 2 }, latencyMs: 3, ttftMs: 4 };

/** Every event the store announces to a user's listeners, from the moment it resolves. */
async function recordUserEvents(store: ChunkStore, userId: string) {
  const events: StreamEvent[] = [];
  const sub = store.subscribe({ kind: "user", userId }, { onEvent: (e) => events.push(e) });
  await sub.ready;
  return { events, sub };
}

describe.each(implementations)("chunk store contract: %s", (_name, makeStore) => {
  const store = makeStore();
  afterAll(() => store.close());

  it("numbers appended chunks 1, 2, 3 and reads them back from any cursor", async () => {
    const reply = newReply();
    await store.create(reply);
    expect(await store.startAttempt(reply, 1)).not.toBeNull();
    expect(await store.append(reply, 1, "a", 10)).toBe(1);
    expect(await store.append(reply, 1, 'b\n"quoted" ☃', 11)).toBe(2);
    expect(await store.append(reply, 1, "c", 12)).toBe(3);
    expect(await store.readChunks(reply, 1)).toEqual([
      { seq: 2, text: 'b\n"quoted" ☃', ts: 11 },
      { seq: 3, text: "c", ts: 12 },
    ]);
    expect(await store.readChunks(reply, 0, 1)).toEqual([{ seq: 1, text: "a", ts: 10 }]);
    const state = await store.getState(reply);
    expect(state).toMatchObject({ status: "generating", attempt: 1, seq: 3, userId: reply.userId });
  });

  it("announces create, start, chunks and the end to session and user subscribers in order", async () => {
    const reply = newReply();
    const bySession: StreamEvent[] = [];
    const byUser: StreamEvent[] = [];
    const s1 = store.subscribe(
      { kind: "session", sessionId: reply.sessionId, userId: reply.userId },
      { onEvent: (e) => bySession.push(e) },
    );
    const s2 = store.subscribe({ kind: "user", userId: reply.userId }, { onEvent: (e) => byUser.push(e) });
    await Promise.all([s1.ready, s2.ready]);
    await store.create(reply);
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "hi", 5);
    const final = await store.finish(reply, 1, done);
    expect(final).toMatchObject({
      type: "done",
      seq: 1,
      attempt: 1,
      usage: done.usage,
      correlationId: reply.correlationId,
    });
    await sleep(50);
    const types = byUser.map((e) => (e.type === "status" ? `status:${e.status}` : e.type));
    expect(types).toEqual(["status:queued", "status:generating", "chunk", "done"]);
    expect(bySession).toEqual(byUser);
    s1.close();
    s2.close();
  });

  it("continues the kept text in a later attempt: no reset, seq goes on, stale writes refused", async () => {
    const reply = newReply();
    const { events, sub } = await recordUserEvents(store, reply.userId);
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "old ", 1);
    const started = await store.startAttempt(reply, 2, { reason: "model_error" });
    expect(started).toEqual({ continued: true, reason: "model_error", kept: [{ seq: 1, text: "old ", ts: 1 }] });
    expect(await store.startAttempt(reply, 2)).toBeNull();
    expect(await store.append(reply, 1, "stale", 2)).toBeNull();
    expect(await store.append(reply, 2, "new", 3)).toBe(2);
    expect(await store.finish(reply, 1, done)).toBeNull();
    expect(await store.readChunks(reply, 0)).toEqual([
      { seq: 1, text: "old ", ts: 1 },
      { seq: 2, text: "new", ts: 3 },
    ]);
    expect(await store.getState(reply)).toMatchObject({ attempt: 2, seq: 2, continued: true, kept: 1 });
    await sleep(50);
    expect(events.some((e) => e.type === "reset")).toBe(false);
    const status = events.find((e) => e.type === "status" && e.attempt === 2);
    expect(status).toMatchObject({ status: "generating", reason: "model_error", continued: true, seq: 1 });
    sub.close();
  });

  it("rebuilds a reply it lost from the checkpoint, chunk for chunk, as store_lost", async () => {
    const reply = newReply();
    const { events, sub } = await recordUserEvents(store, reply.userId);
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "one ", 1);
    await store.append(reply, 1, "two ", 2);
    await store.remove(reply);
    const started = await store.startAttempt(reply, 2, { reason: "worker_lost", checkpoint: ["one ", "two "] });
    expect(started?.continued).toBe(true);
    expect(started?.reason).toBe("store_lost");
    expect(started?.kept.map((chunk) => [chunk.seq, chunk.text])).toEqual([
      [1, "one "],
      [2, "two "],
    ]);
    expect(await store.append(reply, 2, "three", 3)).toBe(3);
    expect((await store.readChunks(reply, 1)).map((chunk) => chunk.text)).toEqual(["two ", "three"]);
    await sleep(50);
    expect(events.some((e) => e.type === "reset")).toBe(false);
    sub.close();
  });

  it("restarts a lost reply with reset only when no checkpoint kept its text", async () => {
    const reply = newReply();
    const { events, sub } = await recordUserEvents(store, reply.userId);
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "gone", 1);
    await store.remove(reply);
    expect(await store.startAttempt(reply, 2, { reason: "worker_lost" })).toEqual({
      continued: false,
      reason: "store_lost",
      kept: [],
    });
    expect(await store.append(reply, 2, "anew", 2)).toBe(1);
    await sleep(50);
    expect(events.map((e) => e.type)).toContain("reset");
    sub.close();
  });

  it("keeps a longer store text over a shorter checkpoint", async () => {
    const reply = newReply();
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "a", 1);
    await store.append(reply, 1, "b", 2);
    const started = await store.startAttempt(reply, 2, { reason: "worker_lost", checkpoint: ["a"] });
    expect(started?.kept.map((chunk) => chunk.text)).toEqual(["a", "b"]);
    expect(started?.reason).toBe("worker_lost");
  });

  it("says once that it lost its data, and again after it lost it", async () => {
    const fresh = makeStore();
    // A new process's first check may say so (a store it never saw); the next one does not.
    await fresh.checkLoss();
    expect(await fresh.checkLoss()).toBe(false);
    await fresh.close();
  });

  it("reads at most `limit` chunks when given one, with the state of the whole reply", async () => {
    const reply = newReply();
    await store.create(reply);
    await store.startAttempt(reply, 1);
    for (const [i, text] of ["a", "b", "c", "d", 'é\n"e"'].entries()) await store.append(reply, 1, text, i + 1);
    const texts = (read: Awaited<ReturnType<ChunkStore["readReply"]>>) => read?.chunks.map((c) => [c.seq, c.text]);
    expect(texts(await store.readReply(reply, 0, 2))).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
    const slice = await store.readReply(reply, 2, 2);
    expect(slice?.state).toMatchObject({ attempt: 1, seq: 5 });
    expect(texts(slice)).toEqual([
      [3, "c"],
      [4, "d"],
    ]);
    expect(texts(await store.readReply(reply, 4, 2))).toEqual([[5, 'é\n"e"']]);
    expect(texts(await store.readReply(reply, 5, 2))).toEqual([]);
    expect((await store.readReply(reply, 4, 2))?.chunks[0]?.ts).toBe(5);
  });

  it("reads a reply's state with the chunks of the attempt it names, from a given seq", async () => {
    const reply = newReply();
    expect(await store.readReply(reply, 0)).toBeNull();
    await store.create(reply);
    expect(await store.readReply(reply, 0)).toMatchObject({
      state: { status: "queued", attempt: 0, seq: 0 },
      chunks: [],
    });
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "a", 1);
    await store.append(reply, 1, "b", 2);
    expect(await store.readReply(reply, 1)).toMatchObject({
      state: { status: "generating", attempt: 1, seq: 2 },
      chunks: [{ seq: 2, text: "b", ts: 2 }],
    });
    expect(await store.readReply(reply, 5)).toMatchObject({ state: { attempt: 1, seq: 2 }, chunks: [] });
    await store.startAttempt(reply, 2);
    await store.append(reply, 2, "c", 3);
    expect(await store.readReply(reply, 2)).toMatchObject({
      state: { attempt: 2, seq: 3, continued: true, kept: 2 },
      chunks: [{ seq: 3, text: "c", ts: 3 }],
    });
  });

  it("registers a reply whose attempt starts before its create, and the late create changes nothing", async () => {
    const reply = newReply();
    const { events, sub } = await recordUserEvents(store, reply.userId);
    expect(await store.startAttempt(reply, 1)).not.toBeNull();
    expect(await store.append(reply, 1, "first", 1)).toBe(1);
    await store.create(reply);
    expect(await store.getState(reply)).toMatchObject({
      status: "generating",
      attempt: 1,
      seq: 1,
      userId: reply.userId,
      correlationId: reply.correlationId,
    });
    await sleep(50);
    expect(events.map((e) => (e.type === "status" ? `status:${e.status}` : e.type))).toEqual([
      "status:generating",
      "chunk",
    ]);
    expect(events[0]).toMatchObject({ correlationId: reply.correlationId, attempt: 1 });
    sub.close();
  });

  it("ends a reply once: no write and no second end after it", async () => {
    const reply = newReply();
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "part", 1);
    const cancelled = await store.finish(reply, null, { status: "cancelled" });
    expect(cancelled).toMatchObject({ type: "status", status: "cancelled", seq: 1 });
    expect(await store.append(reply, 1, "late", 2)).toBeNull();
    expect(await store.finish(reply, 1, done)).toBeNull();
    expect(await store.startAttempt(reply, 2)).toBeNull();
    expect((await store.getState(reply))?.final).toEqual(cancelled);
  });

  it("expires a reply's chunks after it ends", async () => {
    const reply = newReply();
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "x", 1);
    await store.finish(reply, 1, done);
    expect(await store.getState(reply)).not.toBeNull();
    await sleep(1_300);
    expect(await store.getState(reply)).toBeNull();
    expect(await store.readChunks(reply, 0)).toEqual([]);
  });

  it("replays from any cursor then goes live with no gap and no duplicate while writes race", async () => {
    const reply = newReply();
    await store.create(reply);
    await store.startAttempt(reply, 1);
    const total = 400;
    const writer = (async () => {
      for (let i = 1; i <= total; i++) {
        await store.append(reply, 1, `${i},`, i);
        if (i % 25 === 0) await sleep(1);
      }
      await store.finish(reply, 1, done);
    })();
    const readers = [];
    for (let r = 0; r < 12; r++) {
      await sleep(2 + Math.random() * 6);
      const state = await store.getState(reply);
      const cursor = Math.floor(Math.random() * ((state?.seq ?? 0) + 1));
      readers.push(readReplyUntilEnd(store, reply, cursor).then((result) => ({ cursor, ...result })));
    }
    await writer;
    for (const { cursor, seqs, text } of await Promise.all(readers)) {
      expect(seqs).toEqual(Array.from({ length: total - cursor }, (_, i) => cursor + i + 1));
      expect(text).toBe(seqs.map((n) => `${n},`).join(""));
    }
  });

  it("serves many readers of one reply from one subscription", async () => {
    const reply = newReply();
    // Channels of earlier tests may still be subscribed (a channel nobody needs lingers a while).
    const before = await subscriptionsOf(store);
    const counts = new Array<number>(300).fill(0);
    const subs = counts.map((_, i) =>
      store.subscribe(
        { kind: "session", sessionId: reply.sessionId, userId: reply.userId },
        {
          onEvent: () => {
            counts[i] = (counts[i] ?? 0) + 1;
          },
        },
      ),
    );
    await Promise.all(subs.map((s) => s.ready));
    // At most one more Redis subscription in all: the reply's user's shard channel.
    if (store instanceof RedisChunkStore) expect((await subscriptionsOf(store)) - before).toBeLessThanOrEqual(1);
    await store.create(reply);
    await store.startAttempt(reply, 1);
    for (let i = 0; i < 10; i++) await store.append(reply, 1, "t", i);
    await sleep(100);
    expect(new Set(counts)).toEqual(new Set([12]));
    for (const s of subs) s.close();
  });

  it("appends to many replies in one call, fencing each reply by its own attempt", async () => {
    const [live, stale, ended] = [newReply(), newReply(), newReply()];
    for (const reply of [live, stale, ended]) {
      await store.create(reply);
      await store.startAttempt(reply, 1);
    }
    await store.startAttempt(stale, 2);
    await store.finish(ended, null, { status: "cancelled" });
    const events: StreamEvent[] = [];
    const sub = store.subscribe({ kind: "user", userId: live.userId }, { onEvent: (e) => events.push(e) });
    await sub.ready;
    const seqs = await store.appendMany([
      { reply: live, attempt: 1, text: "one", ts: 1 },
      { reply: stale, attempt: 1, text: "stale", ts: 1 },
      { reply: ended, attempt: 1, text: "late", ts: 1 },
    ]);
    expect(seqs).toEqual([1, null, null]);
    expect(await store.appendMany([{ reply: live, attempt: 1, text: "two", ts: 2 }])).toEqual([2]);
    await sleep(50);
    expect(events.map((e) => (e.type === "chunk" ? `${e.seq}:${e.text}` : e.type))).toEqual(["1:one", "2:two"]);
    expect(await store.readChunks(stale, 0)).toEqual([]);
    sub.close();

    // More replies than one script call takes: every one still gets its chunk, in its own list.
    const many = Array.from({ length: 450 }, () => newReply());
    for (const reply of many) {
      await store.create(reply);
      await store.startAttempt(reply, 1);
    }
    const first = await store.appendMany(many.map((reply, i) => ({ reply, attempt: 1, text: `a${i}`, ts: 3 })));
    const second = await store.appendMany(many.map((reply, i) => ({ reply, attempt: 1, text: `b${i}`, ts: 4 })));
    expect(new Set(first)).toEqual(new Set([1]));
    expect(new Set(second)).toEqual(new Set([2]));
    const sample = many[321];
    if (sample) expect((await store.readChunks(sample, 0)).map((c) => c.text)).toEqual(["a321", "b321"]);
  });

  it("hands a listener its own user's or session's events only, even on a shared shard", async () => {
    const mine = newReply();
    // Another user whose events travel on the same Redis channel.
    let other = newReply();
    const channelOf = (reply: ReturnType<typeof newReply>) =>
      store instanceof RedisChunkStore ? store.layout.channel(reply) : eventChannelOf(reply.userId);
    while (channelOf(other) !== channelOf(mine)) other = newReply();
    const sameUserOtherSession = { ...newReply(), userId: mine.userId };
    const byUser: StreamEvent[] = [];
    const bySession: StreamEvent[] = [];
    const s1 = store.subscribe({ kind: "user", userId: mine.userId }, { onEvent: (e) => byUser.push(e) });
    const s2 = store.subscribe(
      { kind: "session", sessionId: mine.sessionId, userId: mine.userId },
      { onEvent: (e) => bySession.push(e) },
    );
    await Promise.all([s1.ready, s2.ready]);
    for (const reply of [mine, other, sameUserOtherSession]) {
      await store.create(reply);
      await store.startAttempt(reply, 1);
    }
    await store.appendMany(
      [mine, other, sameUserOtherSession].map((reply) => ({ reply, attempt: 1, text: "x", ts: 1 })),
    );
    await sleep(50);
    const ids = (events: StreamEvent[]) => new Set(events.map((e) => e.messageId));
    expect(ids(byUser)).toEqual(new Set([mine.messageId, sameUserOtherSession.messageId]));
    expect(ids(bySession)).toEqual(new Set([mine.messageId]));
    expect(byUser.filter((e) => e.type === "chunk")).toHaveLength(2);
    s1.close();
    s2.close();
  });
});

describe("the Redis subscriber", () => {
  it("keeps a channel nobody listens to for a while, so a reader who comes back needs no SUBSCRIBE", async () => {
    const name = `linger-sub-${randomUUID()}`;
    const client = new Redis(TEST_REDIS_URL, { connectionName: name });
    redisClients.push(client);
    const subscriber = new SharedSubscriber(client, 300);
    const reply = newReply();
    const channel = eventChannelOf(reply.userId);
    const first = subscriber.subscribe(userListenerName(reply.userId), channel, { onEvent: () => {} });
    await first.ready;
    expect(await subscribedChannels(name)).toBe(1);
    first.close();
    await sleep(100);
    expect(await subscribedChannels(name)).toBe(1);
    // Back within the linger: the same subscription, already confirmed.
    const again = subscriber.subscribe(userListenerName(reply.userId), channel, { onEvent: () => {} });
    expect(again.ready).toBe(first.ready);
    await sleep(400);
    expect(await subscribedChannels(name)).toBe(1);
    again.close();
    await sleep(450);
    expect(await subscribedChannels(name)).toBe(0);
    expect(subscriber.channelCount).toBe(0);
  });
});

describe("the Redis store's running hash", () => {
  const fieldsOf = async (client: Redis, messageId: string) =>
    (await client.hkeys(RUNNING_KEY)).filter((field) => field.startsWith(messageId));

  it("holds the current attempt of a generating reply only, and forgets it when the reply ends or is removed", async () => {
    const store = newRedisStore();
    const client = redisClients.at(-2) as Redis;
    const ended = newReply();
    await store.create(ended);
    expect(await fieldsOf(client, ended.messageId)).toEqual([]);
    await store.startAttempt(ended, 1);
    expect(await fieldsOf(client, ended.messageId)).toEqual([`${ended.messageId}:1`]);
    await store.startAttempt(ended, 2);
    expect(await fieldsOf(client, ended.messageId)).toEqual([`${ended.messageId}:2`]);
    // The chunk line the web parses carries the ids the worker no longer sends with each chunk.
    const events: StreamEvent[] = [];
    const subscription = store.subscribe(
      { kind: "session", sessionId: ended.sessionId, userId: ended.userId },
      { onEvent: (e) => events.push(e) },
    );
    await subscription.ready;
    expect(await store.append(ended, 2, 'say "hi"\n', 1234)).toBe(1);
    await expect
      .poll(() => events.find((e) => e.type === "chunk"))
      .toEqual({
        type: "chunk",
        sessionId: ended.sessionId,
        messageId: ended.messageId,
        correlationId: ended.correlationId,
        attempt: 2,
        seq: 1,
        text: 'say "hi"\n',
        ts: 1234,
      });
    subscription.close();
    await store.finish(ended, 2, done);
    expect(await fieldsOf(client, ended.messageId)).toEqual([]);
    expect(await store.append(ended, 2, "late", 1)).toBeNull();

    const removed = newReply();
    await store.create(removed);
    await store.startAttempt(removed, 1);
    await store.remove(removed);
    expect(await fieldsOf(client, removed.messageId)).toEqual([]);
    expect(await store.getState(removed)).toBeNull();
    expect(await store.append(removed, 1, "late", 1)).toBeNull();
    await store.close();
  });
});

describe("the Redis Cluster store", () => {
  const admin = cluster.client();
  clusterClients.push(admin);
  /** Sums `ask` over the masters, each asked directly. */
  const overMasters = async (ask: (node: Redis) => Promise<number>) => {
    let total = 0;
    for (const node of admin.nodes("master")) total += await ask(node);
    return total;
  };
  const calls = (command: string) =>
    overMasters(async (node) => {
      const info = await node.info("commandstats");
      return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
    });
  /** Replies in every slot group, `perGroup` of each. */
  const repliesOfEveryGroup = (perGroup: number) => {
    const byGroup = new Map<number, ReturnType<typeof newReply>[]>();
    while ([...byGroup.values()].filter((list) => list.length >= perGroup).length < EVENT_SHARDS) {
      const reply = newReply();
      const list = byGroup.get(groupOfSession(reply.sessionId)) ?? [];
      if (list.length < perGroup) list.push(reply);
      byGroup.set(groupOfSession(reply.sessionId), list);
    }
    return [...byGroup.values()].flat();
  };

  it("keeps a reply's keys, its group's running hash and event channel in one slot, groups spread over the masters", async () => {
    const store = newClusterStore();
    const slots = new Set<number>();
    for (const reply of repliesOfEveryGroup(1)) {
      const { layout } = store;
      const keys = [layout.hash(reply), layout.list(reply), layout.running(reply), layout.channel(reply)];
      const keySlots = await Promise.all(keys.map((key) => admin.cluster("KEYSLOT", key) as Promise<number>));
      expect(new Set(keySlots).size).toBe(1);
      slots.add(keySlots[0] as number);
    }
    expect(slots.size).toBe(EVENT_SHARDS);
    // Each master owns some of the groups.
    const owners = new Set<string>();
    const ranges = await admin.cluster("SLOTS");
    for (const slot of slots) {
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      owners.add(String(range?.[2]?.[1]));
    }
    expect(owners.size).toBe(cluster.ports.length);
    expect(CLUSTER_LAYOUT.channelsOf({ kind: "user", userId: "u" })).toHaveLength(EVENT_SHARDS);
  });

  it("appends a batch across replies in every slot group: one script call per group, each reply in order", async () => {
    const store = newClusterStore();
    const replies = repliesOfEveryGroup(5);
    for (const reply of replies) {
      await store.create(reply);
      await store.startAttempt(reply, 1);
    }
    const stale = replies[7] as ReturnType<typeof newReply>;
    await store.startAttempt(stale, 2);
    // The first call loads the script on each master; the second is counted.
    expect(await store.appendMany(replies.map((reply) => ({ reply, attempt: 1, text: "a", ts: 1 })))).toEqual(
      replies.map((reply) => (reply === stale ? null : 1)),
    );
    const before = await calls("evalsha");
    const seqs = await store.appendMany(replies.map((reply, i) => ({ reply, attempt: 1, text: `b${i}`, ts: 2 })));
    expect((await calls("evalsha")) - before).toBe(EVENT_SHARDS);
    expect(seqs).toEqual(replies.map((reply) => (reply === stale ? null : 2)));
    for (const [i, reply] of replies.entries()) {
      if (reply === stale) continue;
      expect((await store.readChunks(reply, 0)).map((c) => c.text)).toEqual(["a", `b${i}`]);
    }
    await store.close();
  });

  it("announces events on sharded channels only: a plain SUBSCRIBE hears none of them", async () => {
    const store = newClusterStore();
    const reply = newReply();
    const channel = store.layout.channel(reply);
    const plain = cluster.client();
    clusterClients.push(plain);
    const heardPlain: string[] = [];
    plain.on("message", (_channel: string, message: string) => heardPlain.push(message));
    await plain.subscribe(channel);
    // Sharded subscriptions of the channel, as the masters count them (other stores' may linger).
    const subscribers = () =>
      overMasters(async (node) => ((await node.pubsub("SHARDNUMSUB", channel)) as [string, number])[1]);
    const before = await subscribers();
    const { events, sub } = await recordUserEvents(store, reply.userId);
    expect((await subscribers()) - before).toBe(1);
    await store.create(reply);
    await store.startAttempt(reply, 1);
    await store.append(reply, 1, "x", 1);
    await store.finish(reply, 1, done);
    await expect.poll(() => events.map((e) => e.type)).toEqual(["status", "status", "chunk", "done"]);
    await sleep(100);
    expect(heardPlain).toEqual([]);
    sub.close();
    await store.close();
  });

  it("tells its readers to check again when a master's subscriber connection drops, and delivers after it", async () => {
    const store = newClusterStore();
    const reply = newReply();
    const events: StreamEvent[] = [];
    let resyncs = 0;
    const sub = store.subscribe(
      { kind: "session", sessionId: reply.sessionId, userId: reply.userId },
      { onEvent: (e) => events.push(e), onResync: () => resyncs++ },
    );
    await sub.ready;
    // The master that owns the channel drops its pub/sub clients, as a restart would.
    for (const node of admin.nodes("master")) await node.client("KILL", "TYPE", "pubsub");
    await expect.poll(() => resyncs, { timeout: 10_000 }).toBeGreaterThan(0);
    await store.create(reply);
    await expect.poll(() => events.map((e) => e.type), { timeout: 10_000 }).toEqual(["status"]);
    sub.close();
    await store.close();
  });

  it("notices the loss of any one master's data", async () => {
    const store = newClusterStore();
    await store.checkLoss();
    expect(await store.checkLoss()).toBe(false);
    await admin.nodes("master").at(-1)?.flushall();
    expect(await store.checkLoss()).toBe(true);
    expect(await store.checkLoss()).toBe(false);
    await store.close();
  });
});
