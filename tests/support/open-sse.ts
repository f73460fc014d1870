import { createParser } from "eventsource-parser";
import type { ApiClient, SseEvent } from "./client";

// An SSE connection kept open while the test does something else (stops Redis, sends SIGTERM):
// `open` resolves once the response's headers are in, so the server has registered the connection
// and no timing guess is needed; `ended` resolves when the server closes the body.
export interface OpenSse {
  status: number;
  events: SseEvent[];
  /** Resolves with every event once the server has closed the connection. */
  ended: Promise<SseEvent[]>;
  /** Resolves once an event matching `test` has arrived. */
  waitFor(test: (event: SseEvent) => boolean): Promise<SseEvent>;
  abort(): void;
}

export async function openSse(client: ApiClient, path: string, timeoutMs = 30_000): Promise<OpenSse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const response = await client.fetch(path, { signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters: Array<{ test: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }> = [];
  const parser = createParser({
    onEvent: (message) => {
      const event = { event: message.event ?? "message", id: message.id, data: JSON.parse(message.data) };
      events.push(event);
      for (const waiter of waiters.splice(0)) {
        if (waiter.test(event)) waiter.resolve(event);
        else waiters.push(waiter);
      }
    },
  });
  const ended = (async () => {
    try {
      if (!response.body) return events;
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        parser.feed(decoder.decode(read.value, { stream: true }));
      }
      return events;
    } finally {
      clearTimeout(timer);
    }
  })();
  // Observed here too: a test that only looks at `events` must not leave a rejection unhandled.
  ended.catch(() => {});
  return {
    status: response.status,
    events,
    ended,
    waitFor: (test) => {
      const seen = events.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        ended.then(() => reject(new Error(`the stream ended without the event (${events.length} events)`)), reject);
      });
    },
    abort: () => controller.abort(),
  };
}
