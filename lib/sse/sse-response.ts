import "server-only";
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { env } from "../env";
import { outageError } from "../errors";
import { type ReconnectReason, trackConnection } from "../http/sse-connections";
import { metrics } from "../metrics";
import { redisIsUp } from "../redis/connections";
import { getChunkStore } from "../streams/index";
import { sseDeliveryTracker } from "../tracing/index";
import type { Cursor } from "./cursor";
import {
  eventFrame,
  HEARTBEAT_FRAME,
  OPEN_FRAME,
  reconnectFrame,
  SSE_HEADERS,
  sharedChunk,
  sharedFrame,
  type WireEvent,
} from "./sse";
import { ReplyStream, type StreamTarget } from "./stream";
import { getStreamSlots } from "./stream-slots";

// The SSE responses are written straight to Node's response (pages/api routes): a live event for
// one reader is one write of text built once for every reader (to the socket itself on a plain
// chunked response, see chunkedSocketOf). An App Router Response body costs a web ReadableStream
// piped into a WritableStream per connection, several promises per chunk per reader; at 1,000
// readers that was about a third of the web process's CPU (docs/benchmarks.md).

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
 * has nothing to send. The response starts once the database has said which replies the replay
 * holds; a failure before that (a session that is not the user's: 404) has sent nothing and is
 * thrown, one after it ends the stream with `reconnect`. The replay is written a reply at a time,
 * waiting while the client is behind, so a connection holds about one reply of it in memory.
 */
export async function streamReplies(
  res: ServerResponse,
  target: StreamTarget,
  cursors: Map<string, Cursor>,
): Promise<void> {
  const config = env();
  const store = await getChunkStore();
  // With Redis down, the subscriber would queue this stream's SUBSCRIBE until it is back: 503 now.
  if (config.redis && !redisIsUp(config.redis)) throw outageError("store_unavailable");
  const m = metrics();
  const tally = m.sseEventsSent;
  const delivery = m.deliveryLatency;
  const timers: NodeJS.Timeout[] = [];
  // Until the database says whether there is anything to send (200 or 204), frames wait here.
  let held: string[] | null = [];
  // While the replay runs, its frames are built as text (each goes to this reader alone) and
  // written a reply at a time: one write and one buffer per reply instead of per event.
  let batch: string[] | null = [];
  let batchLength = 0;
  let closed = false;

  // Once the headers and the replay are out, a live event on a plain chunked response goes to the
  // socket as the whole HTTP chunk built once for every reader: res.write would frame it again for
  // each reader and defer it to a writev on the next tick.
  let direct: Socket | null = null;

  /** A comment or control frame (a string), or an event, whose frame is built once for every reader. */
  const write = (item: string | WireEvent) => {
    if (closed) return;
    if (held) held.push(typeof item === "string" ? item : eventFrame(item));
    else if (batch) {
      const frame = typeof item === "string" ? item : eventFrame(item);
      batch.push(frame);
      batchLength += frame.length;
      if (batchLength >= REPLAY_WRITE_BYTES) flush();
    } else if (res.writableLength > MAX_QUEUED_BYTES) {
      // end() would wait for a client that does not read: let the socket and its buffer go now.
      close();
      res.destroy();
    } else if (typeof item === "string") res.write(item);
    else if (!direct) res.write(sharedFrame(item));
    // A client that half-closed: the server ended the socket, and res says `close` a moment later.
    else if (direct.writable) direct.write(sharedChunk(item));
    else close();
  };
  /** Writes the replay's frames built so far. */
  const flush = () => {
    if (!batch || batch.length === 0 || held || closed || res.destroyed) return;
    res.write(batch.length === 1 ? batch[0] : batch.join(""));
    batch.length = 0;
    batchLength = 0;
  };
  /** The replay is over: what follows goes out event by event. */
  const endBatch = () => {
    flush();
    batch = null;
  };
  const close = () => {
    if (closed) return;
    flush();
    closed = true;
    untrack();
    releaseSlot?.();
    for (const timer of timers) clearInterval(timer);
    replies.close();
    deliveries?.close();
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
  // The delivery span of each reply it writes (null, and no check per event, when nothing is traced).
  const deliveries = sseDeliveryTracker();
  // Its slot among the user's streams: a newer one past MAX_SSE_PER_USER ends this one.
  let releaseSlot: (() => void) | null = null;
  const replies: ReplyStream = new ReplyStream({
    store,
    target,
    cursors,
    emit: (event) => {
      tally[event.type] = (tally[event.type] ?? 0) + 1;
      // A live chunk (not one of the replay's): how long it took from the worker to this reader.
      if (event.type === "chunk" && batch === null && held === null) {
        delivery.observe(Math.max(0, Date.now() - event.ts) / 1000);
      }
      write(event);
      deliveries?.written(event);
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
  let deadline: NodeJS.Timeout | undefined;
  // Once the database has said what the replay holds, the response starts and the replay's events
  // go out as they are read, a reply at a time: a connection that names 200 long replies no longer
  // builds them all in memory first.
  const startResponse = () => {
    clearTimeout(deadline);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, SSE_HEADERS);
    const frames = held ?? [];
    held = null;
    res.write(OPEN_FRAME + frames.join(""));
  };
  const started = replies.start({
    onLookedUp: startResponse,
    pace: () => {
      flush();
      return drained(res, () => closed);
    },
  });
  let hasReplies: boolean;
  try {
    hasReplies = await Promise.race([
      started,
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(outageError("store_unavailable")), START_DEADLINE_MS);
      }),
    ]);
  } catch (error) {
    if (!res.headersSent) {
      close();
      throw error;
    }
    // The replay failed part way (a read of the store or the database): the client comes back
    // with the cursors of what it got.
    reconnect("store_unreachable");
    return;
  } finally {
    clearTimeout(deadline);
  }
  if (!res.destroyed && res.headersSent) endBatch();
  if (res.destroyed) return close(); // the client left during the replay
  if (!hasReplies) {
    close();
    res.writeHead(204).end();
    return;
  }
  startResponse();
  endBatch();
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

/** A replay's frames go out in writes of about this size (and at the end of each reply). */
const REPLAY_WRITE_BYTES = 64 * 1024;
/** A replay waits while this much is queued for a client that has not read it yet. */
const REPLAY_HIGH_WATER_BYTES = 64 * 1024;
/** A client that reads nothing of its replay for this long is let go (it comes back with its cursors). */
const REPLAY_STALL_MS = 30_000;

/** Resolves once the client has taken the replay's bytes down to the high-water mark (or left). */
function drained(res: ServerResponse, isClosed: () => boolean): Promise<void> {
  if (isClosed() || res.destroyed || res.writableLength <= REPLAY_HIGH_WATER_BYTES) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(stall);
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    const stall = setTimeout(() => {
      res.destroy();
      done();
    }, REPLAY_STALL_MS);
    res.on("drain", done);
    res.on("close", done);
  });
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
