import type { ReplyEvent } from "../contract";
import { NOSNIFF } from "../http/security-headers";
import type { ReconnectReason } from "../http/sse-connections";

// SSE framing. A live event is one object shared by every reader of the process, so its frame is
// built and encoded once and the same bytes are written to every reader: no JSON
// re-serialisation or UTF-8 encoding per reader. The bytes are a whole HTTP/1.1 chunk (size line,
// frame, CRLF), so a reader on a plain chunked response can be sent them as they are, with no
// framing per reader either; the frame alone is a view into them.
// The bytes ride on the event object itself: a WeakMap entry per event per process made every
// young-generation collection process thousands of ephemerons.
const BYTES = Symbol("bytes");

/** A reply event as it goes on the wire: the contract's `ReplyEvent` (lib/contract.ts). */
export type WireEvent = ReplyEvent;

interface EventBytes {
  /** "<size in hex>\r\n<frame>\r\n": the frame as one HTTP/1.1 chunk. */
  chunk: Buffer;
  /** The SSE frame (a view into `chunk`). */
  frame: Uint8Array;
}

function bytesOf(event: WireEvent): EventBytes {
  const holder = event as { [BYTES]?: EventBytes };
  let bytes = holder[BYTES];
  if (bytes === undefined) {
    const frame = eventFrame(event);
    const size = Buffer.byteLength(frame);
    const head = `${size.toString(16)}\r\n`;
    // Its own memory, not a slice of Node's shared 8 KiB pool: an end event can be kept for an
    // hour (the embedded store keeps it as the reply's final event), and a slice would keep the
    // whole pool block with it.
    const chunk = Buffer.allocUnsafeSlow(head.length + size + 2);
    chunk.write(`${head}${frame}\r\n`);
    bytes = { chunk, frame: chunk.subarray(head.length, head.length + size) };
    // Not enumerable: a spread copy of the event is another event and must not carry these bytes.
    Object.defineProperty(holder, BYTES, { value: bytes });
  }
  return bytes;
}

/** An event's SSE frame as text, built anew on each call (for an event that goes to one reader). */
export function eventFrame(event: WireEvent): string {
  const { type, ...data } = event;
  const hasPosition = type === "chunk" || type === "snapshot";
  // An end carries `<id>:<attempt>:<seq>:end`: a client that comes back with it has everything.
  const isEnd = type === "done" || type === "error" || (type === "status" && event.status === "cancelled");
  const position = "seq" in event && event.seq !== undefined ? `${event.messageId}:${event.attempt}:${event.seq}` : "";
  const id = hasPosition ? `id: ${position}\n` : isEnd && position ? `id: ${position}:end\n` : "";
  return `event: ${type}\n${id}data: ${JSON.stringify(data)}\n\n`;
}

/** An event's SSE frame as bytes, built once however many readers it goes to (never mutate it). */
export function eventBytes(event: WireEvent): Uint8Array {
  return bytesOf(event).frame;
}

/** The same frame as one whole HTTP/1.1 chunk, for a socket that carries a chunked response. */
export function eventChunk(event: WireEvent): Buffer {
  return bytesOf(event).chunk;
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
