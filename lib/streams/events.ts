import type { ReplyState, StatusEvent } from "./types";

/** The reply's `status` event as it stands: a continued attempt names why and what it kept. */
export function statusEventOf(state: ReplyState): StatusEvent {
  const event: StatusEvent = {
    type: "status",
    sessionId: state.sessionId,
    messageId: state.messageId,
    correlationId: state.correlationId,
    status: state.status,
    attempt: state.attempt,
  };
  if (state.reason) event.reason = state.reason;
  if (state.continued) Object.assign(event, { continued: true, seq: state.kept });
  return event;
}

/** Listener names: what a reader follows. Many of them share one shard channel on Redis. */
export const sessionListenerName = (sessionId: string) => `chat:session:${sessionId}`;
export const userListenerName = (userId: string) => `chat:user:${userId}`;

export function channelNames(ref: { sessionId: string; userId: string }): [string, string] {
  return [sessionListenerName(ref.sessionId), userListenerName(ref.userId)];
}

export const CONTROL_CHANNEL = "chat:control";

export function channelName(channel: import("./types").Channel): string {
  switch (channel.kind) {
    case "session":
      return sessionListenerName(channel.sessionId);
    case "user":
      return userListenerName(channel.userId);
    case "control":
      return CONTROL_CHANNEL;
  }
}

/**
 * Redis carries reply events on EVENT_SHARDS channels, chosen by user id: a batch of chunks for
 * many replies is one PUBLISH per shard, and a process subscribes to the shards of its readers.
 * Web and worker must agree on the count, so it is a constant, not a setting.
 */
export const EVENT_SHARDS = 16;
export const EVENT_CHANNEL_PREFIX = "chat:events:";

/** The shard (0 … EVENT_SHARDS - 1) of a text; the Lua `shard` function in redis-scripts.ts computes the same. */
export function shardIndexOf(text: string): number {
  let x = 0;
  for (const byte of Buffer.from(text, "utf8")) x = (x * 31 + byte) % 65521;
  return x % EVENT_SHARDS;
}

const shardOfUser = new Map<string, string>();

/** The shard channel of a user; the Lua `shard` function in redis-scripts.ts computes the same. */
export function eventChannelOf(userId: string): string {
  let channel = shardOfUser.get(userId);
  if (channel === undefined) {
    channel = `${EVENT_CHANNEL_PREFIX}${shardIndexOf(userId)}`;
    // Asked for every reply at every flush: remembered, within a bound.
    if (shardOfUser.size >= 100_000) shardOfUser.clear();
    shardOfUser.set(userId, channel);
  }
  return channel;
}

/** The Redis channel a listener needs: its user's shard, or the control channel. */
export function redisChannelOf(channel: import("./types").Channel): string {
  return channel.kind === "control" ? CONTROL_CHANNEL : eventChannelOf(channel.userId);
}

// On a Redis Cluster a script may touch the keys of one slot only, and a sharded channel
// (SPUBLISH) lives in a slot too. So there a session's replies belong to one of EVENT_SHARDS slot
// groups, named by a hash tag: their hashes, lists, the group's running hash and the group's
// event channel share the slot. A group follows the session, not the user (a reply's id names its
// session, not its user): a session's reader needs one channel, a user's reader all of them.

/** The hash tag of a slot group: `{chat-<n>}`. */
export const groupTagOf = (group: number) => `{chat-${group}}`;

/** The slot group of a session's replies on a cluster. */
export const groupOfSession = (sessionId: string) => shardIndexOf(sessionId);

/** A slot group's sharded event channel. */
export const groupChannelOf = (group: number) => `${groupTagOf(group)}:events`;

/** True for a channel that carries reply events (in lines), in either layout. */
export const isEventChannel = (channel: string) =>
  channel.startsWith(EVENT_CHANNEL_PREFIX) || (channel.startsWith("{chat-") && channel.endsWith(":events"));
