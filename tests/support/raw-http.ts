import http from "node:http";
import net from "node:net";
import zlib from "node:zlib";

// Requests that fetch cannot send (TRACE, CONNECT, unknown methods, paths that are not valid
// URLs, raw bytes), answered with the whole body; with a time limit, so a request the server
// holds is an error the caller can tell from an answer.

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class RawTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no whole answer within ${ms} ms`);
  }
}

export function rawRequest(
  baseUrl: string,
  request: { method: string; path: string; headers?: Record<string, string | string[]>; body?: string | Buffer },
  timeoutMs = 5000,
  options: { peekEventStream?: boolean } = {},
): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        agent: false,
        // Node's client checks no header value the fuzzer may want to send as it is.
        insecureHTTPParser: true,
      },
      (res) => {
        const parts: Buffer[] = [];
        // An SSE answer may stay open for minutes: with peekEventStream its first bytes are enough.
        const peek = options.peekEventStream && /^text\/event-stream/.test(res.headers["content-type"] ?? "");
        res.on("data", (part: Buffer) => {
          parts.push(part);
          if (!peek) return;
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString("utf8") });
        });
        res.on("end", () => {
          clearTimeout(timer);
          try {
            const body = decoded(Buffer.concat(parts), res.headers["content-encoding"]).toString("utf8");
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          } catch (error) {
            reject(error);
          }
        });
        res.on("error", fail);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new RawTimeout(timeoutMs));
    }, timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on("error", fail);
    // CONNECT: the answer comes as 'connect', with the socket.
    req.on("connect", (res, socket, head) => {
      const parts: Buffer[] = [head];
      socket.on("data", (part: Buffer) => parts.push(part));
      socket.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString("utf8") });
      });
      socket.on("error", fail);
    });
    req.end(request.body);
  });
}

/** A body as sent, unpacked (a request that asked for gzip or br gets it). */
function decoded(body: Buffer, encoding: string | undefined): Buffer {
  if (body.length === 0) return body;
  if (encoding === "gzip") return zlib.gunzipSync(body);
  if (encoding === "br") return zlib.brotliDecompressSync(body);
  if (encoding === "deflate") return zlib.inflateSync(body);
  return body;
}

/** Writes `bytes` on a new connection and reads until the server closes it (or the time limit). */
export function rawBytes(baseUrl: string, bytes: string, timeoutMs = 5000): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RawTimeout(timeoutMs));
    }, timeoutMs);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (part: Buffer) => parts.push(part));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts).toString("utf8"));
    });
    socket.on("error", () => {});
  });
}
