import type { Redis } from "ioredis";
import type { StreamEvent, SubscribeHandlers, Subscription } from "./types";

/**
 * The one pub/sub connection of a process. However many SSE readers are connected, each channel
 * is subscribed once and each message is parsed once, then handed to every listener.
 */
export class SharedSubscriber {
  private readonly listeners = new Map<string, Set<SubscribeHandlers>>();
  private readonly subscribed = new Map<string, Promise<void>>();
  private wasReady = false;

  constructor(private readonly client: Redis) {
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
    return this.listeners.size;
  }

  private dispatch(channel: string, message: string) {
    const set = this.listeners.get(channel);
    if (!set || set.size === 0) return;
    let event: StreamEvent;
    try {
      event = JSON.parse(message) as StreamEvent;
    } catch {
      return;
    }
    for (const handlers of set) handlers.onEvent(event);
  }

  subscribe(channel: string, handlers: SubscribeHandlers): Subscription {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(handlers);
    let ready = this.subscribed.get(channel);
    if (!ready) {
      ready = this.client.subscribe(channel).then(() => undefined);
      this.subscribed.set(channel, ready);
    }
    let closed = false;
    return {
      ready,
      close: () => {
        if (closed) return;
        closed = true;
        const current = this.listeners.get(channel);
        current?.delete(handlers);
        if (current && current.size === 0) {
          this.listeners.delete(channel);
          this.subscribed.delete(channel);
          this.client.unsubscribe(channel).catch(() => {});
        }
      },
    };
  }
}
