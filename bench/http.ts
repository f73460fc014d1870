// The load process's HTTP: node:http with keep-alive and no socket cap, and a minimal SSE reader.
// Every system under test (Backchannel, the floor, resumable-stream) is read through this same
// code, so client-side costs are the same for all of them.
import http from "node:http";
import type { Socket } from "node:net";

export const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

// performance.now() and Date.now() on one clock: a chunk's `ts` (wall ms) against a perf mark.
const wallOffset = Date.now() - performance.now();
export const wallAt = (perf: number) => perf + wallOffset;

/**
 * A server that stops (or drops a reader) resets sockets whose request already ended, idle in the
 * agent or half closed; such an `error` has no listener left and would end this process. The
 * request's own errors still reach its `error` handler.
 */
function keepSocketErrorsQuiet(socket: Socket) {
  // A keep-alive socket serves many requests: one listener is enough.
  if (quieted.has(socket)) return;
  quieted.add(socket);
  socket.on("error", () => {});
}
const quieted = new WeakSet<Socket>();

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...options.headers };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const req = http.request(url, { method: options.method ?? "GET", headers, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.on("socket", keepSocketErrorsQuiet);
    req.end(payload);
  });
}

export interface SseFrame {
  event: string;
  data: string;
  id: string | undefined;
}

export interface SseReader {
  /** Resolves (perf ms) once the response headers arrived: the stream is open. */
  opened: Promise<number>;
  /** Resolves when the server ends the stream or `close` was called. */
  ended: Promise<void>;
  /** Characters of the body received so far. */
  readonly chars: number;
  close(): void;
}

/**
 * Opens an SSE stream. `onFrame` gets each frame with the perf time its bytes arrived; returning
 * true closes the stream.
 */
export function openSse(
  url: string,
  headers: Record<string, string>,
  onFrame: (frame: SseFrame, at: number) => boolean | undefined,
): SseReader {
  let chars = 0;
  let closed = false;
  let resolveOpened: (at: number) => void = () => {};
  let rejectOpened: (error: Error) => void = () => {};
  const opened = new Promise<number>((resolve, reject) => {
    resolveOpened = resolve;
    rejectOpened = reject;
  });
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  // An SSE stream is long-lived: its own socket, so it never waits behind another request.
  const req = http.request(url, { headers: { accept: "text/event-stream", ...headers }, agent: false }, (res) => {
    if (res.statusCode !== 200) {
      rejectOpened(new Error(`SSE ${url}: ${res.statusCode}`));
      res.resume();
      resolveEnded();
      return;
    }
    res.socket.setNoDelay(true);
    resolveOpened(performance.now());
    res.setEncoding("utf8");
    let buffer = "";
    res.on("data", (chunk: string) => {
      const at = performance.now();
      chars += chunk.length;
      buffer += chunk;
      let boundary = buffer.indexOf("\n\n");
      while (boundary !== -1 && !closed) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        boundary = buffer.indexOf("\n\n");
        let event = "message";
        let data = "";
        let id: string | undefined;
        for (const line of block.split("\n")) {
          if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(line[5] === " " ? 6 : 5);
          else if (line.startsWith("event:")) event = line.slice(line[6] === " " ? 7 : 6);
          else if (line.startsWith("id:")) id = line.slice(line[3] === " " ? 4 : 3);
        }
        if (!data && event === "message") continue; // a comment (heartbeat)
        if (onFrame({ event, data, id }, at)) close();
      }
    });
    res.on("end", resolveEnded);
    res.on("close", resolveEnded);
    res.on("error", resolveEnded);
  });
  req.on("error", (error) => {
    rejectOpened(error);
    resolveEnded();
  });
  req.on("socket", keepSocketErrorsQuiet);
  req.end();
  function close() {
    if (closed) return;
    closed = true;
    req.destroy();
    resolveEnded();
  }
  return {
    opened,
    ended,
    get chars() {
      return chars;
    },
    close,
  };
}
