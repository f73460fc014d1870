import { randomUUID } from "node:crypto";
import { createParser } from "eventsource-parser";

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: Record<string, unknown>;
}

/** A signed-in API client: one guest user with its session cookie. */
export class ApiClient {
  private constructor(
    readonly baseUrl: string,
    readonly cookie: string,
    readonly userId: string,
  ) {}

  /** A client using an existing session cookie (e.g. a browser's). */
  static withCookie(baseUrl: string, cookie: string): ApiClient {
    return new ApiClient(baseUrl, cookie, "");
  }

  static async guest(baseUrl: string): Promise<ApiClient> {
    const response = await fetch(`${baseUrl}/api/auth/guest`, { method: "POST" });
    if (!response.ok) throw new Error(`guest sign-in failed: ${response.status}`);
    const body = (await response.json()) as { user: { id: string } };
    const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    return new ApiClient(baseUrl, cookie, body.user.id);
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("cookie", this.cookie);
    if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
    return fetch(`${this.baseUrl}${path}`, { ...init, headers });
  }

  async json<T = Record<string, unknown>>(
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await this.fetch(path, init);
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers };
  }

  async send(content: string, options: { sessionId?: string; clientMessageId?: string } = {}) {
    const payload = { content, clientMessageId: options.clientMessageId ?? randomUUID(), sessionId: options.sessionId };
    const result = await this.json<SendBody>("/api/chat/messages", { method: "POST", body: JSON.stringify(payload) });
    if (result.status !== 202) throw new Error(`send failed: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  }

  /**
   * Reads an SSE stream until `until` says stop (or the server closes it), then aborts.
   * `abortAfter` cuts the connection after that many events, like a dropped network.
   */
  async readSse(
    path: string,
    options: {
      lastEventId?: string;
      until?: (event: SseEvent, all: SseEvent[]) => boolean;
      timeoutMs?: number;
      /** Stops reading (without an error) when aborted. */
      signal?: AbortSignal;
    } = {},
  ): Promise<{ status: number; events: SseEvent[]; closedByServer: boolean }> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), options.timeoutMs ?? 30_000);
    const headers: Record<string, string> = {};
    if (options.lastEventId) headers["last-event-id"] = options.lastEventId;
    const events: SseEvent[] = [];
    let stopped = false;
    options.signal?.addEventListener("abort", () => {
      stopped = true;
      controller.abort();
    });
    const parser = createParser({
      onEvent: (message) => {
        if (stopped) return;
        const event = {
          event: message.event ?? "message",
          id: message.id,
          data: JSON.parse(message.data) as Record<string, unknown>,
        };
        events.push(event);
        // Stops reading after this message; the loop below lets go of the body (an abort alone
        // could leave a read pending for ever when the server closed the stream in the same moment).
        if (options.until?.(event, events)) stopped = true;
      },
    });
    let status = 0;
    let closedByServer = false;
    try {
      const response = await this.fetch(path, { headers, signal: controller.signal });
      status = response.status;
      if (response.body) {
        const decoder = new TextDecoder();
        const reader = response.body.getReader();
        let ended = true;
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          parser.feed(decoder.decode(read.value, { stream: true }));
          if (stopped) {
            ended = false;
            await reader.cancel().catch(() => {});
            break;
          }
        }
        closedByServer = ended;
      } else {
        closedByServer = true;
      }
    } catch (error) {
      if (!stopped && !(error instanceof Error && error.name === "AbortError")) throw error;
      if (!stopped) throw new Error(`SSE read timed out after ${events.length} events`);
    } finally {
      clearTimeout(timeout);
    }
    return { status, events, closedByServer };
  }
}

export interface SendBody {
  sessionId: string;
  userMessageId: string;
  assistantMessageId: string;
  status: string;
  streamUrl: string;
  statusUrl: string;
  correlationId: string;
}

export const isEnd = (messageId: string) => (event: SseEvent) =>
  event.data.messageId === messageId &&
  (event.event === "done" ||
    event.event === "error" ||
    (event.event === "status" && event.data.status === "cancelled"));

/** The reply's text as a client following the contract would build it: chunks, resets, snapshots. */
export function textOf(events: SseEvent[], messageId: string): string {
  let text = "";
  for (const event of events) {
    if (event.data.messageId !== messageId) continue;
    if (event.event === "reset") text = "";
    if (event.event === "snapshot") text = String(event.data.content);
    if (event.event === "chunk") text += String(event.data.text);
  }
  return text;
}
