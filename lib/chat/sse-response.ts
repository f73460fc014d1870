import "server-only";
import type { ServerResponse } from "node:http";
import { env } from "../env";
import { metrics } from "../metrics";
import { getChunkStore } from "../streams/index";
import type { Cursor } from "./cursor";
import { eventBytes, HEARTBEAT_FRAME, OPEN_FRAME, reconnectFrame, SSE_HEADERS } from "./sse";
import { ReplyStream, type StreamTarget } from "./stream";

// The SSE responses are written straight to Node's response (pages/api routes): a chunk for one
// reader is one res.write. An App Router Response body costs a web ReadableStream piped into a
// WritableStream per connection, several promises per chunk per reader; at 1,000 readers that
// was about a third of the web process's CPU (docs/benchmarks.md).

/** A reader this far behind (bytes queued in its socket) is let go; it comes back with its cursor. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

// One labelled child per event type: this runs for every event of every reader.
const counters = new Map<string, { inc(): void }>();
function sseEventCounter(type: string) {
  let counter = counters.get(type);
  if (!counter) {
    counter = metrics().sseEvents.labels({ type });
    counters.set(type, counter);
  }
  return counter;
}

/**
 * Streams `target`'s replies to `res`: the replay first, then live events; a heartbeat comment
 * every SSE_HEARTBEAT_MS (which also checks quiet replies against the store), and on the
 * all-sessions stream a `reconnect` event before MAX_SSE_SECONDS. 204 when a one-session stream
 * has nothing to send. `allowed` (the ownership check) runs beside the replay, whose frames are
 * held until it passes; when it fails, nothing was sent and its error is thrown.
 */
export async function streamReplies(
  res: ServerResponse,
  target: StreamTarget,
  cursors: Map<string, Cursor>,
  allowed: Promise<unknown> = Promise.resolve(),
): Promise<void> {
  // Observed at once: it may reject before anything below awaits it (or if something below throws).
  allowed.catch(() => {});
  const config = env();
  const store = await getChunkStore();
  const m = metrics();
  const timers: NodeJS.Timeout[] = [];
  // Until the replay decides between 200 and 204, frames wait here.
  let held: Array<string | Uint8Array> | null = [];
  let closed = false;

  const write = (frame: string | Uint8Array) => {
    if (closed) return;
    if (held) held.push(frame);
    else if (res.writableLength > MAX_QUEUED_BYTES) {
      // end() would wait for a client that does not read: let the socket and its buffer go now.
      close();
      res.destroy();
    } else res.write(frame);
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearInterval(timer);
    replies.close();
    m.sseConnections.dec();
    if (res.headersSent) res.end();
  };
  const replies: ReplyStream = new ReplyStream({
    store,
    target,
    cursors,
    emit: (event) => {
      sseEventCounter(event.type).inc();
      write(eventBytes(event));
    },
    onAllEnded: () => {
      if (target.kind === "session") close();
    },
    onFailure: () => {
      write(reconnectFrame());
      close();
    },
  });
  m.sseConnections.inc();
  res.on("close", close);
  let hasReplies: boolean;
  try {
    [hasReplies] = await Promise.all([replies.start(), allowed]);
  } catch (error) {
    close();
    throw error;
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
  res.write(OPEN_FRAME);
  for (const frame of frames) res.write(frame);
  // Everything may have been sent (and the stream ended) during the replay: no timers then.
  if (closed) {
    res.end();
    return;
  }
  timers.push(
    setInterval(() => {
      write(HEARTBEAT_FRAME);
      replies.enqueue(() => replies.resync(config.SSE_HEARTBEAT_MS));
    }, config.SSE_HEARTBEAT_MS),
  );
  if (target.kind === "user") {
    timers.push(
      setTimeout(() => {
        replies.enqueue(async () => {
          write(reconnectFrame());
          close();
        });
      }, config.MAX_SSE_SECONDS * 1000),
    );
  }
}
