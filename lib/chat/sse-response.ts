import "server-only";
import { env } from "../env";
import { metrics } from "../metrics";
import { getChunkStore } from "../streams/index";
import type { Cursor } from "./cursor";
import { encodeFrame, eventBytes, HEARTBEAT_FRAME, OPEN_FRAME, reconnectFrame, SSE_HEADERS } from "./sse";
import { ReplyStream, type StreamTarget } from "./stream";

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
 * An SSE response over a ReplyStream: first bytes at once, a heartbeat comment every
 * SSE_HEARTBEAT_MS (which also checks quiet replies against the store), and on the all-sessions
 * stream a `reconnect` event before MAX_SSE_SECONDS. 204 when a one-session stream has nothing.
 */
export async function sseResponse(
  request: Request,
  target: StreamTarget,
  cursors: Map<string, Cursor>,
): Promise<Response> {
  const config = env();
  const store = await getChunkStore();
  const m = metrics();
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let closed = false;
  const timers: NodeJS.Timeout[] = [];

  const write = (frame: string) => {
    if (!closed) controller?.enqueue(encodeFrame(frame));
  };
  const writeBytes = (bytes: Uint8Array) => {
    if (!closed) controller?.enqueue(bytes);
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearInterval(timer);
    replies.close();
    m.sseConnections.dec();
    try {
      controller?.close();
    } catch {}
  };
  const replies: ReplyStream = new ReplyStream({
    store,
    target,
    cursors,
    emit: (event) => {
      sseEventCounter(event.type).inc();
      writeBytes(eventBytes(event));
    },
    onAllEnded: () => {
      if (target.kind === "session") close();
    },
    onFailure: () => {
      write(reconnectFrame());
      close();
    },
  });
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
      c.enqueue(encodeFrame(OPEN_FRAME));
    },
    cancel: () => close(),
  });
  m.sseConnections.inc();
  request.signal.addEventListener("abort", close);
  let hasReplies: boolean;
  try {
    hasReplies = await replies.start();
  } catch (error) {
    close();
    throw error;
  }
  if (!hasReplies) {
    close();
    return new Response(null, { status: 204 });
  }
  // Everything may have been sent (and the stream closed) during the replay: no timers then.
  if (closed) return new Response(body, { status: 200, headers: SSE_HEADERS });
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
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
