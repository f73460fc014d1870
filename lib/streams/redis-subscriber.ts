import type { Redis } from "ioredis";
import { EVENT_CHANNEL_PREFIX, sessionListenerName, userListenerName } from "./events";
import { eventsReceived } from "./tally";
import type { StreamEvent, SubscribeHandlers, Subscription } from "./types";

/**
 * The one pub/sub connection of a process. However many SSE readers are connected, each Redis
 * channel is subscribed once and each event is parsed once, then handed to every listener.
 *
 * Listeners follow names (`chat:user:<id>`, `chat:session:<id>`, `chat:control`); reply events
 * arrive on shard channels, a message per batch with lines "<userId>\t<sessionId>\t<event JSON>".
 * A line is parsed only when this process has a listener for its user or its session.
 */
export class SharedSubscriber {
  private readonly listeners = new Map<string, Set<SubscribeHandlers>>();
  /** Redis channel → how many listener names need it, its SUBSCRIBE, and its pending UNSUBSCRIBE. */
  private readonly channels = new Map<string, { names: number; ready: Promise<void>; idle?: NodeJS.Timeout }>();
  private wasReady = false;
  private readonly received = eventsReceived();

  /** `unsubscribeAfterMs`: how long a channel nobody listens to any more stays subscribed. */
  constructor(
    private readonly client: Redis,
    private readonly unsubscribeAfterMs = 30_000,
  ) {
    client.on("message", (channel: string, message: string) => this.dispatch(channel, message));
    client.on("ready", () => {
      // ioredis resubscribes by itself after a reconnect, but what was published meanwhile is gone:
      // tell every reader to check the store again.
      if (this.wasReady) for (const set of this.listeners.values()) for (const h of set) h.onResync?.();
      this.wasReady = true;
    });
    if (client.status === "ready") this.wasReady = true;
  }

  get channelCount(): number {
    return this.channels.size;
  }

  private dispatch(channel: string, message: string) {
    if (!channel.startsWith(EVENT_CHANNEL_PREFIX)) {
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
        const byUser = this.listeners.get(userListenerName(message.slice(start, tab1)));
        const bySession = this.listeners.get(sessionListenerName(message.slice(tab1 + 1, tab2)));
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

  /** Listens to `name`, whose events arrive on the Redis channel `channel`. */
  subscribe(name: string, channel: string, handlers: SubscribeHandlers): Subscription {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
      const existing = this.channels.get(channel);
      if (existing) {
        existing.names++;
        clearTimeout(existing.idle);
        existing.idle = undefined;
      } else this.channels.set(channel, { names: 1, ready: this.client.subscribe(channel).then(() => undefined) });
    }
    set.add(handlers);
    const ready = this.channels.get(channel)?.ready ?? Promise.resolve();
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
        const entry = this.channels.get(channel);
        if (entry && --entry.names === 0) {
          // Kept a while: a reader that reconnects (a reload, a resume) finds it subscribed and
          // saves a round trip before its replay.
          entry.idle = setTimeout(() => {
            if (this.channels.get(channel) !== entry || entry.names > 0) return;
            this.channels.delete(channel);
            this.client.unsubscribe(channel).catch(() => {});
          }, this.unsubscribeAfterMs);
          entry.idle.unref();
        }
      },
    };
  }
}
