import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { AppError, errorBody } from "../errors";
import { allowOf, KNOWN_METHODS, pathSegments, routeOf } from "./method-guard";

// Requests that Next must not see, answered on the Node server before it does: a method this
// server does not handle (TRACE, TRACK, PROPFIND, CONNECT…; Next answers TRACE with an HTML 500 and
// a stack in the log), a path that does not decode (a bad % escape; Next answers an HTML 400),
// `/api` itself (Next: an HTML 404), and on an /api route a method the route does not answer
// (Next's 405 has no body) or OPTIONS. Each gets the contract's JSON error. Not a proxy.ts
// (middleware cannot see TRACE, and it costs every request): one patch of http.Server's emit,
// installed from instrumentation.ts. Parser errors of Node itself (a malformed request line or
// header) also get a JSON body instead of an empty one.

const INSTALLED = Symbol.for("backchannel.unroutable-guard");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALL_METHODS = [...KNOWN_METHODS].join(", ");

interface Answer {
  error: AppError | null;
  /** 204 with these headers (OPTIONS). */
  headers: Record<string, string>;
}

/** What the guard answers for a request line, or null when Next should have it. Exported for tests. */
export function guardAnswer(method: string, url: string): Answer | null {
  const segments = pathSegments(url);
  if (!segments) {
    return { error: new AppError(400, "invalid_request", "The request's path is not a valid URL path."), headers: {} };
  }
  const route = routeOf(segments);
  if (!KNOWN_METHODS.has(method)) {
    const allow = route ? allowOf(route) : ALL_METHODS;
    return { error: notAllowed(allow), headers: { Allow: allow } };
  }
  // `/api` itself: app/api/[...path] answers only paths below it.
  if (!route && segments[0] === "api" && segments.length <= 2 && !segments[1]) {
    return { error: new AppError(404, "not_found", "There is no such endpoint."), headers: {} };
  }
  if (!route) return null;
  if (method === "OPTIONS") return { error: null, headers: { Allow: allowOf(route) } };
  if (route.methods.includes(method)) return null;
  return { error: notAllowed(allowOf(route)), headers: { Allow: allowOf(route) } };
}

function notAllowed(allow: string): AppError {
  return new AppError(405, "method_not_allowed", `This endpoint answers ${allow}.`);
}

function correlationIdOf(req: IncomingMessage): string {
  const given = req.headers["x-correlation-id"];
  return typeof given === "string" && UUID.test(given) ? given.toLowerCase() : randomUUID();
}

function answer(req: IncomingMessage, res: ServerResponse, reply: Answer) {
  const headers = { ...reply.headers, "X-Correlation-Id": correlationIdOf(req), "Cache-Control": "no-store" };
  if (!reply.error) {
    res.writeHead(204, headers).end();
    return;
  }
  const body = JSON.stringify(errorBody(reply.error));
  res
    .writeHead(reply.error.status, {
      ...headers,
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(body)),
    })
    .end(body);
}

/** A whole HTTP/1.1 response written on a socket that has no ServerResponse, then closed. */
function writeRaw(socket: Duplex, status: number, reason: string, error: AppError, extra = "") {
  const body = JSON.stringify(errorBody(error));
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

// Node's own answers to a request it could not parse (lib/_http_server.js socketOnError), with bodies.
function answerClientError(error: Error & { code?: string }, socket: Duplex) {
  const open = socket as Duplex & { _httpMessage?: { _headerSent?: boolean } };
  if (socket.writable && !open._httpMessage?._headerSent) {
    if (error.code === "HPE_HEADER_OVERFLOW") {
      writeRaw(socket, 431, "Request Header Fields Too Large", tooLarge("The request's headers are too large."));
    } else if (error.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW") {
      writeRaw(socket, 413, "Payload Too Large", tooLarge("The request's chunk extensions are too large."));
    } else if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      writeRaw(
        socket,
        408,
        "Request Timeout",
        new AppError(408, "invalid_request", "The request took too long to arrive."),
      );
    } else {
      writeRaw(socket, 400, "Bad Request", new AppError(400, "invalid_request", "The request is not valid HTTP."));
    }
  }
  socket.destroy(error);
}

function tooLarge(message: string): AppError {
  return new AppError(413, "payload_too_large", message);
}

/** Answers CONNECT and Node's parser errors on a server that has no listener of its own for them. */
function adopt(server: http.Server) {
  if (server.listenerCount("connect") === 0) {
    // Without a listener Node would just drop the socket.
    server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
      writeRaw(socket, 405, "Method Not Allowed", notAllowed(ALL_METHODS), `Allow: ${ALL_METHODS}\r\n`);
      socket.end();
    });
  }
  if (server.listenerCount("clientError") === 0) server.on("clientError", answerClientError);
}

/** Installs the guard on every Node HTTP server of the process, once. */
export function installUnroutableGuard(): void {
  const proto = http.Server.prototype as http.Server & { [INSTALLED]?: true };
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = true;
  const emit = proto.emit as (event: string | symbol, ...args: unknown[]) => boolean;
  const adopted = new WeakSet<http.Server>();
  proto.emit = function guardedEmit(this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "connection" && !adopted.has(this)) {
      adopted.add(this);
      adopt(this);
    } else if (event === "request") {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      const reply = guardAnswer(req.method ?? "", req.url ?? "");
      if (reply) {
        answer(req, res, reply);
        return true;
      }
    }
    return emit.apply(this, [event, ...args]);
  } as typeof proto.emit;
}
