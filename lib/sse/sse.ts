import type { ReplyEvent } from "../contract";
import { NOSNIFF } from "../http/security-headers";
import type { ReconnectReason } from "../http/sse-connections";

// SSE framing. A live event is one object shared by every reader of the process, so its frame is
// built once and the same text is written to every reader: no JSON re-serialisation per reader.
// The text is also kept as a whole HTTP/1.1 chunk (size line, frame, CRLF), so a reader on a plain
// chunked response can be sent it as it is, with no framing per reader either.
// Text, not bytes: a socket writes a short string straight from it (encoded into the write
// itself), where a Buffer of its own per event cost an allocation and its release (2 to 3 µs an
// event, a tenth of the web's CPU at 1,000 replies × 1 reader); encoding per reader is a copy of a
// few hundred bytes.
// The text rides on the event object itself: a WeakMap entry per event per process made every
// young-generation collection process thousands of ephemerons.
const FRAMED = Symbol("framed");

/** A reply event as it goes on the wire: the contract's `ReplyEvent` (lib/contract.ts). */
export type WireEvent = ReplyEvent;

interface Framed {
  /** "<size in hex>\r\n<frame>\r\n": the frame as one HTTP/1.1 chunk. */
  chunk: string;
  /** The SSE frame. */
  frame: string;
}

function framedOf(event: WireEvent): Framed {
  const holder = event as { [FRAMED]?: Framed };
  let framed = holder[FRAMED];
  if (framed === undefined) {
    const frame = eventFrame(event);
    framed = { chunk: `${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`, frame };
    // Not enumerable: a spread copy of the event is another event and must not carry this text.
    Object.defineProperty(holder, FRAMED, { value: framed });
  }
  return framed;
}

/** The event's fields but `type`, as JSON: the frame's data. */
function dataJson(event: WireEvent): string {
  const json = JSON.stringify(event);
  // An event whose first field is its type (every event the stores build) is that JSON without
  // it: no copy of the event without its type per event.
  const prefix = `{"type":${JSON.stringify(event.type)}`;
  if (json.startsWith(prefix)) {
    const rest = json.slice(prefix.length);
    return rest === "}" ? "{}" : `{${rest.slice(1)}`;
  }
  const { type: _type, ...data } = event;
  return JSON.stringify(data);
}

/** An event's SSE frame as text, built anew on each call (for an event that goes to one reader). */
export function eventFrame(event: WireEvent): string {
  const { type } = event;
  const hasPosition = type === "chunk" || type === "snapshot";
  // An end carries `<id>:<attempt>:<seq>:end`: a client that comes back with it has everything.
  const isEnd = type === "done" || type === "error" || (type === "status" && event.status === "cancelled");
  const position = "seq" in event && event.seq !== undefined ? `${event.messageId}:${event.attempt}:${event.seq}` : "";
  const id = hasPosition ? `id: ${position}\n` : isEnd && position ? `id: ${position}:end\n` : "";
  return `event: ${type}\n${id}data: ${dataJson(event)}\n\n`;
}

/** An event's SSE frame, built once however many readers it goes to. */
export function sharedFrame(event: WireEvent): string {
  return framedOf(event).frame;
}

/** The same frame as one whole HTTP/1.1 chunk, for a socket that carries a chunked response. */
export function sharedChunk(event: WireEvent): string {
  return framedOf(event).chunk;
}

export const HEARTBEAT_FRAME = ": hb\n\n";
export const OPEN_FRAME = "retry: 1000\n: open\n\n";

/** The `reconnect` event: the server ends the connection now, for `reason`; the client comes back with its cursors. */
export function reconnectFrame(reason: ReconnectReason): string {
  return `event: reconnect\ndata: ${JSON.stringify({ reason })}\n\n`;
}

export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  Connection: "keep-alive",
  ...NOSNIFF,
} as const;
