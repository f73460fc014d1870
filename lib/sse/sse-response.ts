import "server-only";
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { env } from "../env";
import { outageError } from "../errors";
import { type ReconnectReason, trackConnection } from "../http/sse-connections";
import { metrics } from "../metrics";
import { redisIsUp } from "../redis/connections";
import { getChunkStore } from "../streams/index";
import type { Cursor } from "./cursor";
import {
  eventBytes,
  eventChunk,
  HEARTBEAT_FRAME,
  OPEN_FRAME,
  reconnectFrame,
  SSE_HEADERS,
  type WireEvent,
} from "./sse";
import { ReplyStream, type StreamTarget } from "./stream";
import { getStreamSlots } from "./stream-slots";

// The SSE responses are written straight to Node's response (pages/api routes): a live event for
// one reader is one write of bytes built once for every reader (to the socket itself on a plain
// chunked response, see chunkedSocketOf). An App Router Response body costs a web ReadableStream
// piped into a WritableStream per connection, several promises per chunk per reader; at 1,000
// readers that was about a third of the web process's CPU (docs/benchmarks.md).

const OPEN_BYTES = Buffer.from(OPEN_FRAME);

/** A reader this far behind (bytes queued in its socket) is let go; it comes back with its cursor. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/**
 * Longer than any healthy replay (its reads are bounded by the store's and the database's own
 * timeouts): past it the stream answers 503. It bounds the one wait that nothing else bounds, a
 * SUBSCRIBE on a link to Redis that has died without the subscriber noticing yet.
 */
const START_DEADLINE_MS = 10_000;

/**
 * Streams `target`'s replies to `res`: the replay first, then live events; a heartbeat comment
 * every SSE_HEARTBEAT_MS (which also checks quiet replies against the store), and on the
 * all-sessions stream a `reconnect` event before MAX_SSE_SECONDS. 204 when a one-session stream
 * has nothing to send. The replay's frames are held until it is done; when it fails (a session
 * that is not the user's: 404), nothing was sent and its error is thrown.
 */
export async function streamReplies(
  res: ServerResponse,
  target: StreamTarget,
  cursors: Map<string, Cursor>,
): Promise<void> {
  const config = env();
  const store = await getChunkStore();
  // With Redis down, the subscriber would queue this stream's SUBSCRIBE until it is back: 503 now.
  if (config.REDIS_URL && !redisIsUp(config.REDIS_URL)) throw outageError("store_unavailable");
  const m = metrics();
  const tally = m.sseEventsSent;
  const timers: NodeJS.Timeout[] = [];
  // Until the replay decides between 200 and 204, frames wait here.
  let held: Array<string | Uint8Array> | null = [];
  let closed = false;

  // Once the headers and the replay are out, a live event on a plain chunked response goes to the
  // socket as the whole HTTP chunk built once for every reader: res.write would frame it again for
  // each reader and defer it to a writev on the next tick.
  let direct: Socket | null = null;

  /** A comment or control frame (a string), or an event, whose bytes are built once for every reader. */
  const write = (item: string | WireEvent) => {
    if (closed) return;
    if (held) held.push(typeof item === "string" ? item : eventBytes(item));
    else if (res.writableLength > MAX_QUEUED_BYTES) {
      // end() would wait for a client that does not read: let the socket and its buffer go now.
      close();
      res.destroy();
    } else if (typeof item === "string") res.write(item);
    else if (!direct) res.write(eventBytes(item));
    // A client that half-closed: the server ended the socket, and res says `close` a moment later.
    else if (direct.writable) direct.write(eventChunk(item));
    else close();
  };
  const close = () => {
    if (closed) return;
    closed = true;
    untrack();
    releaseSlot?.();
    for (const timer of timers) clearInterval(timer);
    replies.close();
    m.sseConnections.dec();
    if (res.headersSent) res.end();
  };
  /** Ends the connection with `reconnect`: the client comes back with its cursors. */
  const reconnect = (reason: ReconnectReason) => {
    write(reconnectFrame(reason));
    const socket = res.headersSent ? res.socket : null;
    close();
    // A shutdown waits for every open connection (Next's server.close): this one's socket goes now,
    // not after its keep-alive timeout.
    if (reason === "shutdown") socket?.end();
  };
  const untrack = trackConnection(reconnect);
  // Its slot among the user's streams: a newer one past MAX_SSE_PER_USER ends this one.
  let releaseSlot: (() => void) | null = null;
  const replies: ReplyStream = new ReplyStream({
    store,
    target,
    cursors,
    emit: (event) => {
      tally[event.type] = (tally[event.type] ?? 0) + 1;
      write(event);
    },
    onAllEnded: () => {
      if (target.kind === "session") close();
    },
    // A step failed (a read of the store or the database): resuming from the cursor loses nothing.
    onFailure: () => reconnect("store_unreachable"),
  });
  m.sseConnections.inc();
  res.on("close", close);
  try {
    releaseSlot = await (await getStreamSlots()).take(target.userId, () => reconnect("superseded"));
  } catch (error) {
    close();
    throw outageError("store_unavailable", error);
  }
  if (closed) {
    releaseSlot();
    return;
  }
  let hasReplies: boolean;
  let deadline: NodeJS.Timeout | undefined;
  try {
    hasReplies = await Promise.race([
      replies.start(),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(outageError("store_unavailable")), START_DEADLINE_MS);
      }),
    ]);
  } catch (error) {
    close();
    throw error;
  } finally {
    clearTimeout(deadline);
  }
  const frames = held;
  held = null;
  if (res.destroyed) return close(); // the client left during the replay
  if (!hasReplies) {
    close();
    res.writeHead(204).end();
    return;
  }
  res.writeHead(200, SSE_HEADERS);
  // The replay goes out as one write (one syscall, one HTTP chunk), not one per event.
  res.write(
    Buffer.concat([OPEN_BYTES, ...frames.map((frame) => (typeof frame === "string" ? Buffer.from(frame) : frame))]),
  );
  // Everything may have been sent (and the stream ended) during the replay: no timers then.
  if (closed) {
    res.end();
    return;
  }
  direct = chunkedSocketOf(res);
  timers.push(
    setInterval(() => {
      write(HEARTBEAT_FRAME);
      replies.enqueue(() => replies.resync(config.SSE_HEARTBEAT_MS));
    }, config.SSE_HEARTBEAT_MS),
  );
  if (target.kind === "user") {
    timers.push(
      setTimeout(() => {
        replies.enqueue(async () => reconnect("time_limit"));
      }, config.MAX_SSE_SECONDS * 1000),
    );
  }
}

/**
 * The socket of a response whose body goes out as HTTP/1.1 chunks, uncompressed, on a connection
 * it has to itself: bytes written there in whole chunks keep the body well formed, in order with
 * what res.write sends (both end up in the socket's buffer in call order). Null otherwise (then
 * every write goes through res.write).
 */
function chunkedSocketOf(res: ServerResponse): Socket | null {
  const { socket } = res;
  // Node's own fields: chunked framing chosen, and nothing of this response waiting outside the socket.
  const internals = res as ServerResponse & { chunkedEncoding?: boolean; outputSize?: number };
  const owner = (socket as (Socket & { _httpMessage?: unknown }) | null)?._httpMessage;
  if (!socket || !res.headersSent || internals.chunkedEncoding !== true || owner !== res) return null;
  if (internals.outputSize !== 0) return null;
  if (res.getHeader("content-encoding") !== undefined) return null;
  return socket;
}
