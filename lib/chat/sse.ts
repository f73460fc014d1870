import type { StreamEvent } from "../streams/types";

// SSE framing. A live event is one object shared by every reader of the process, so its frame is
// built and encoded once and the same bytes are written to every reader: no JSON
// re-serialisation or UTF-8 encoding per reader.
// The frame rides on the event object itself: a WeakMap entry per event per process made every
// young-generation collection process thousands of ephemerons.
const FRAME = Symbol("frame");
const encoder = new TextEncoder();

export type WireEvent =
  | StreamEvent
  | {
      type: "snapshot";
      sessionId: string;
      messageId: string;
      correlationId: string;
      attempt: number;
      seq: number;
      content: string;
    };

/** An event's frame as bytes, built once however many readers it goes to (never mutate it). */
export function eventBytes(event: WireEvent): Uint8Array {
  const holder = event as { [FRAME]?: Uint8Array };
  let frame = holder[FRAME];
  if (frame === undefined) {
    const { type, ...data } = event;
    const hasPosition = type === "chunk" || type === "snapshot";
    // An end carries `<id>:<attempt>:<seq>:end`: a client that comes back with it has everything.
    const isEnd = type === "done" || type === "error" || (type === "status" && event.status === "cancelled");
    const position =
      "seq" in event && event.seq !== undefined ? `${event.messageId}:${event.attempt}:${event.seq}` : "";
    const id = hasPosition ? `id: ${position}\n` : isEnd && position ? `id: ${position}:end\n` : "";
    frame = encoder.encode(`event: ${type}\n${id}data: ${JSON.stringify(data)}\n\n`);
    // Not enumerable: a spread copy of the event is another event and must not carry this frame.
    Object.defineProperty(holder, FRAME, { value: frame });
  }
  return frame;
}

export const HEARTBEAT_FRAME = ": hb\n\n";
export const OPEN_FRAME = "retry: 1000\n: open\n\n";

export function reconnectFrame(): string {
  return "event: reconnect\ndata: {}\n\n";
}

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  Connection: "keep-alive",
} as const;
