import type { Cluster, Redis } from "ioredis";
import { isEventChannel, sessionListenerName, userListenerName } from "./events";
import { eventsReceived } from "./tally";
import type { StreamEvent, SubscribeHandlers, Subscription } from "./types";

/**
 * The one pub/sub connection of a process. However many SSE readers are connected, each Redis
 * channel is subscribed once and each event is parsed once, then handed to every listener.
 *
 * Listeners follow names (`chat:user:<id>`, `chat:session:<id>`, `chat:control`); reply events
 * arrive on shard channels, a message per batch with lines "<userId>\t<sessionId>\t<event JSON>".
 * A line is parsed only when this process has a listener for its user or its session.
 *
 * On a Redis Cluster (`sharded`) the event channels are sharded channels: SSUBSCRIBE, on the
 * master that owns the channel's slot (ioredis keeps a connection per master and moves the
 * subscriptions when slots move), and a listener may need several (a user's: every slot group).
 */
const USER_PREFIX = userListenerName("");
const SESSION_PREFIX = sessionListenerName("");

export class SharedSubscriber {
  private readonly listeners = new Map<string, Set<SubscribeHandlers>>();
  /** The same sets by the bare user or session id an event line starts with: no name built per line. */
  private readonly byUserId = new Map<string, Set<SubscribeHandlers>>();
  private readonly bySessionId = new Map<string, Set<SubscribeHandlers>>();
  /** Redis channel → how many listener names need it, its SUBSCRIBE, and its pending UNSUBSCRIBE. */
  private readonly channels = new Map<string, { names: number; ready: Promise<void>; idle?: NodeJS.Timeout }>();
  private wasReady = false;
  private readonly received = eventsReceived();

  /** `unsubscribeAfterMs`: how long a channel nobody listens to any more stays subscribed. */
  constructor(
    private readonly client: Redis | Cluster,
    private readonly unsubscribeAfterMs = 30_000,
    private readonly sharded = false,
  ) {
    client.on("message", (channel: string, message: string) => this.dispatch(channel, message));
    if (sharded) client.on("smessage", (channel: string, message: string) => this.dispatch(channel, message));
    client.on("ready", () => {
      // ioredis resubscribes by itself after a reconnect, but what was published meanwhile is gone:
      // tell every reader to check the store again.
      if (this.wasReady) this.resyncAll();
      this.wasReady = true;
    });
    if (client.status === "ready") this.wasReady = true;
    if (sharded) {
      // On a cluster one master's subscriber connection can drop while the rest stay: ioredis
      // connects again and subscribes its channels anew ("subscribersReady"); then, as above.
      let lostNode = false;
      client.on("-node", () => {
        lostNode = true;
      });
      client.on("subscribersReady", () => {
        if (!lostNode) return;
        lostNode = false;
        this.resyncAll();
      });
    }
  }

  /** Keeps byUserId / bySessionId in step with `listeners` for a user's or a session's name. */
  private indexById(name: string, set: Set<SubscribeHandlers> | null) {
    for (const [prefix, index] of [
      [USER_PREFIX, this.byUserId],
      [SESSION_PREFIX, this.bySessionId],
    ] as const) {
      if (!name.startsWith(prefix)) continue;
      const id = name.slice(prefix.length);
      if (set) index.set(id, set);
      else index.delete(id);
    }
  }

  private resyncAll() {
    for (const set of this.listeners.values()) for (const h of set) h.onResync?.();
  }

  get channelCount(): number {
    return this.channels.size;
  }

  private dispatch(channel: string, message: string) {
    if (!isEventChannel(channel)) {
      const set = this.listeners.get(channel);
      if (set && set.size > 0) this.deliver(message, set, undefined);
      return;
    }
    let start = 0;
    while (start < message.length) {
      let end = message.indexOf("\n", start);
      if (end === -1) end = message.length;
      const tab1 = message.indexOf("\t", start);
      const tab2 = message.indexOf("\t", tab1 + 1);
      if (tab1 !== -1 && tab2 !== -1 && tab2 < end) {
        const byUser = this.byUserId.get(message.slice(start, tab1));
        const bySession = this.bySessionId.get(message.slice(tab1 + 1, tab2));
        if (byUser || bySession) this.deliver(message.slice(tab2 + 1, end), byUser, bySession);
      }
      start = end + 1;
    }
  }

  private deliver(json: string, first: Set<SubscribeHandlers> | undefined, second: Set<SubscribeHandlers> | undefined) {
    let event: StreamEvent;
    try {
      event = JSON.parse(json) as StreamEvent;
    } catch {
      return;
    }
    this.received[event.type] = (this.received[event.type] ?? 0) + 1;
    if (first) for (const handlers of first) handlers.onEvent(event);
    if (second) for (const handlers of second) handlers.onEvent(event);
  }

  private subscribeTo(channel: string): Promise<void> {
    const sharded = this.sharded && isEventChannel(channel);
    return (sharded ? this.client.ssubscribe(channel) : this.client.subscribe(channel)).then(() => undefined);
  }

  private unsubscribeFrom(channel: string): Promise<unknown> {
    const sharded = this.sharded && isEventChannel(channel);
    return sharded ? this.client.sunsubscribe(channel) : this.client.unsubscribe(channel);
  }

  /** Listens to `name`, whose events arrive on the Redis channel(s) `channels`. */
  subscribe(name: string, channels: string | readonly string[], handlers: SubscribeHandlers): Subscription {
    const list = typeof channels === "string" ? [channels] : channels;
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
      this.indexById(name, set);
      for (const channel of list) {
        const existing = this.channels.get(channel);
        if (existing) {
          existing.names++;
          clearTimeout(existing.idle);
          existing.idle = undefined;
        } else this.channels.set(channel, { names: 1, ready: this.subscribeTo(channel) });
      }
    }
    set.add(handlers);
    const readies = list.map((channel) => this.channels.get(channel)?.ready ?? Promise.resolve());
    const ready = readies.length === 1 ? (readies[0] as Promise<void>) : Promise.all(readies).then(() => undefined);
    let closed = false;
    return {
      ready,
      close: () => {
        if (closed) return;
        closed = true;
        const current = this.listeners.get(name);
        current?.delete(handlers);
        if (!current || current.size > 0) return;
        this.listeners.delete(name);
        this.indexById(name, null);
        for (const channel of list) {
          const entry = this.channels.get(channel);
          if (!entry || --entry.names > 0) continue;
          // Kept a while: a reader that reconnects (a reload, a resume) finds it subscribed and
          // saves a round trip before its replay.
          entry.idle = setTimeout(() => {
            if (this.channels.get(channel) !== entry || entry.names > 0) return;
            this.channels.delete(channel);
            this.unsubscribeFrom(channel).catch(() => {});
          }, this.unsubscribeAfterMs);
          entry.idle.unref();
        }
      },
    };
  }
}
