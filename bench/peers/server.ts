// A bare node:http SSE server the benchmark compares the app against. Three kinds, chosen by PEER_KIND:
//
// - floor: replies live in memory and are fanned out to connected readers directly (no Redis, no
//   DB, no auth): about the most this machine can do over HTTP/SSE. Each chunk's SSE text is framed
//   once and the same string is written to every reader.
// - durable: the floor, but a send is durable before its 202, as the app's is: it commits the two
//   rows of a send (the message and its reply) to Postgres in one transaction (DATABASE_URL, its
//   own schema `bench_durable`, rows removed at shutdown) and makes one Redis write (the reply's
//   queued mark, SET … EX), then answers. Its replies stream from memory as the floor's do.
// - resumable: the same HTTP interface, but every reply goes through the npm package
//   `resumable-stream` (ioredis entry): the producer is `createNewResumableStream`, every reader
//   (first connect, late joiner or reconnect) is `resumeExistingStream(id, chars)`.
//
// Start: PEER_KIND=floor|durable|resumable PORT=0 node --import tsx bench/peers/server.ts
// It prints exactly one line `listening <port>` on stdout once it accepts connections.
//
// What resumable-stream@2.2.13 does (read from node_modules/resumable-stream/dist/runtime.js):
// - createNewResumableStream(id, makeStream) subscribes to `<prefix>:rs:request:<id>`, sets the
//   sentinel key `<prefix>:rs:sentinel:<id>` = "1" (EX 24 h), then returns a ReadableStream whose
//   start() calls makeStream() and runs its own read loop: read a value, push it onto an in-memory
//   `chunks` array, enqueue it on the returned stream, PUBLISH it once per registered listener, wait
//   for those publishes, read the next. That loop does not wait for anyone to read the returned
//   stream, so you need NOT drain it for the producer to run or for later readers to get content:
//   late readers are served from the `chunks` array. But every value is also enqueued on the
//   returned stream without regard to backpressure, so an unread returned stream holds a second
//   copy of the whole reply for as long as the reply runs. We therefore cancel() it at once: its source has
//   no cancel hook (the producer keeps running), and the package swallows the enqueue()/close()
//   errors that follow ("If we cannot enqueue, the stream is already closed, but we WANT to
//   continue").
// - When the source ends it sets the sentinel to "DONE", unsubscribes from the request channel and
//   publishes a DONE message to every listener. The `chunks` array is dropped with it: there is no
//   replay of a finished stream. resumeExistingStream returns `null` for a DONE sentinel,
//   `undefined` for a missing one (never created, or expired).
// - resumeExistingStream(id, skip) makes a random listenerId, SUBSCRIBEs to
//   `<prefix>:rs:chunk:<listenerId>` and PUBLISHes {listenerId, skipCharacters} on the request
//   channel. The producer process answers with ONE message holding chunks.join("").slice(skip)
//   (possibly ""), then publishes every later value to that listener's own channel: live chunks
//   reach resumed readers as per-reader pub/sub messages (N readers = N PUBLISHes per chunk, all
//   from the producer's read loop, which awaits them before reading the next value). The returned
//   promise resolves only when that first message arrives (a Redis round trip through the producer);
//   without one within 1 s it resolves null if the sentinel is DONE by then (a reader that raced
//   the end) or rejects "Timeout waiting for ack".
// - skipCharacters counts UTF-16 code units of the concatenated stream values (String#slice), not
//   bytes and not frames; it may cut a frame in half. The client must send how many characters of
//   this stream it already has (across all its connections), counted on the decoded text.
// - A listener that disconnects is unsubscribed on our side (cancel), but the producer never
//   forgets its listenerId: it keeps publishing every chunk to that dead channel until the end.
// - Finished streams: a reader whose request reaches the producer after it unsubscribed gets no ack
//   and, after the 1 s ack timeout, null (→ 410 here). A short tps=0 reply is often finished before
//   the first reader's request arrives, so readers of such replies frequently get 410.
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import postgres from "postgres";
import { createResumableStreamContext, type ResumableStreamContext } from "resumable-stream/ioredis";
import { mockReplyTokens } from "../../lib/llm/mock-text";

type Kind = "floor" | "durable" | "resumable";

const KIND = (process.env.PEER_KIND ?? "floor") as Kind;
if (KIND !== "floor" && KIND !== "durable" && KIND !== "resumable") {
  console.error(`PEER_KIND must be "floor", "durable" or "resumable", not ${JSON.stringify(process.env.PEER_KIND)}`);
  process.exit(2);
}
const PORT = Number(process.env.PORT ?? 0);
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const FLUSH_MS = positiveNumber(process.env.FLUSH_MS, 50);
const FLUSH_MAX_CHARS = positiveNumber(process.env.FLUSH_MAX_CHARS, 512);

/** Every reply is the same mock text for this prompt; checks compare against it. */
const PROMPT = "bench";
/** The mock model wakes at most this often (shared by all replies), like lib/llm/mock.ts. */
const TICK_MS = 15;
/** With tps=0, tokens per chunk, a setImmediate between chunks (like lib/llm/mock.ts). */
const UNPACED_CHUNK_TOKENS = 16;
/** floor: finished replies stay replayable this long. */
const KEEP_FINISHED_MS = 5 * 60_000;
const MAX_TOKENS = 1_000_000;

const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  Connection: "keep-alive",
} as const;

function positiveNumber(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw !== "" && Number.isFinite(value) && value > 0 ? value : fallback;
}

// ---------------------------------------------------------------------------------------------
// Production: the mock model plus a coalescer, shared by both kinds. A sink receives the chunks.

interface Sink {
  chunk(seq: number, text: string, ts: number): void;
  done(lastSeq: number): void;
}

interface Production {
  tokens: string[];
  tps: number;
  startedAt: number;
  /** Tokens moved into `buffer` so far. */
  taken: number;
  buffer: string;
  seq: number;
  sink: Sink;
}

/** Paced replies still producing; one tick and one flush interval serve all of them. */
const paced = new Set<Production>();
let tickTimer: NodeJS.Timeout | null = null;
let flushTimer: NodeJS.Timeout | null = null;

function chunkFrame(seq: number, text: string, ts: number): string {
  return `id: ${seq}\nevent: chunk\ndata: ${JSON.stringify({ seq, text, ts })}\n\n`;
}

function doneFrame(seq: number): string {
  return `event: done\ndata: {"seq":${seq}}\n\n`;
}

function startProduction(tokenCount: number, tps: number, sink: Sink): void {
  const production: Production = {
    tokens: mockReplyTokens(PROMPT, tokenCount),
    tps,
    startedAt: performance.now(),
    taken: 0,
    buffer: "",
    seq: 0,
    sink,
  };
  if (tps === 0) {
    produceUnpaced(production);
    return;
  }
  // The first token is due at once (the +1 in the schedule), as in the app's mock model.
  if (advance(production)) return;
  paced.add(production);
  tickTimer ??= setInterval(tick, TICK_MS);
  flushTimer ??= setInterval(flushAll, FLUSH_MS);
}

function writeChunk(production: Production, text: string): void {
  production.seq += 1;
  production.sink.chunk(production.seq, text, Date.now());
}

/** tps=0: all tokens due at once, 16 per chunk, a setImmediate between chunks. */
function produceUnpaced(production: Production): void {
  const { tokens } = production;
  const total = tokens.length;
  if (production.taken < total) {
    const next = Math.min(total, production.taken + UNPACED_CHUNK_TOKENS);
    const text = tokens.slice(production.taken, next).join("");
    production.taken = next;
    writeChunk(production, text);
  }
  if (production.taken < total) setImmediate(produceUnpaced, production);
  else production.sink.done(production.seq);
}

/** Moves due tokens into the buffer; flushes past FLUSH_MAX_CHARS or at the end. True when finished. */
function advance(production: Production): boolean {
  const total = production.tokens.length;
  const elapsedMs = performance.now() - production.startedAt;
  const due = Math.min(total, 1 + Math.floor((elapsedMs * production.tps) / 1000));
  if (due > production.taken) {
    for (let index = production.taken; index < due; index++) production.buffer += production.tokens[index];
    production.taken = due;
    if (production.buffer.length >= FLUSH_MAX_CHARS) flush(production);
  }
  if (production.taken < total) return false;
  // The model is finished: like the app's coalescer, write what is left at once, then end.
  flush(production);
  production.sink.done(production.seq);
  return true;
}

function flush(production: Production): void {
  if (production.buffer === "") return;
  const text = production.buffer;
  production.buffer = "";
  writeChunk(production, text);
}

function tick(): void {
  for (const production of paced) {
    if (advance(production)) paced.delete(production);
  }
  stopTimersWhenIdle();
}

function flushAll(): void {
  for (const production of paced) flush(production);
  stopTimersWhenIdle();
}

function stopTimersWhenIdle(): void {
  if (paced.size > 0) return;
  if (tickTimer) clearInterval(tickTimer);
  if (flushTimer) clearInterval(flushTimer);
  tickTimer = null;
  flushTimer = null;
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (part: string) => {
      body += part;
      if (body.length > limit) reject(new Error("body too large"));
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

/** {tokens, tps} from the POST body, or an error message. */
function parseReplyRequest(body: string): { tokens: number; tps: number } | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return "body must be JSON";
  }
  const { tokens, tps } = (parsed ?? {}) as { tokens?: unknown; tps?: unknown };
  if (typeof tokens !== "number" || !Number.isInteger(tokens) || tokens < 0 || tokens > MAX_TOKENS) {
    return `tokens must be an integer in 0..${MAX_TOKENS}`;
  }
  if (typeof tps !== "number" || !Number.isFinite(tps) || tps < 0) return "tps must be a number >= 0";
  return { tokens, tps };
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
}

/** A non-negative integer query parameter (0 when missing or malformed). */
function countParam(url: URL, name: string): number {
  const value = Number(url.searchParams.get(name) ?? 0);
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

// ---------------------------------------------------------------------------------------------
// Kinds

interface Peer {
  /** Resolves when the peer can take requests. */
  ready: Promise<void>;
  /** Makes a send durable before its 202 (durable only); `id` is the reply's. */
  store?(id: string): Promise<void>;
  create(tokens: number, tps: number, id?: string): string;
  stream(id: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> | void;
  events(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

interface FloorReply {
  /** frames[i] is the framed chunk with seq i + 1. */
  frames: string[];
  end: string | null;
  readers: Set<ServerResponse>;
}

function createFloorPeer(): Peer {
  const replies = new Map<string, FloorReply>();
  const eventReaders = new Set<ServerResponse>();

  return {
    ready: Promise.resolve(),

    create(tokens, tps, id = randomUUID()) {
      const reply: FloorReply = { frames: [], end: null, readers: new Set() };
      replies.set(id, reply);
      startProduction(tokens, tps, {
        chunk(seq, text, ts) {
          const frame = chunkFrame(seq, text, ts);
          reply.frames.push(frame);
          for (const reader of reply.readers) reader.write(frame);
          if (eventReaders.size > 0) {
            const event = `event: chunk\ndata: ${JSON.stringify({ id, seq, text, ts })}\n\n`;
            for (const reader of eventReaders) reader.write(event);
          }
        },
        done(lastSeq) {
          reply.end = doneFrame(lastSeq);
          for (const reader of reply.readers) reader.end(reply.end);
          reply.readers.clear();
          if (eventReaders.size > 0) {
            const event = `event: done\ndata: {"id":"${id}","seq":${lastSeq}}\n\n`;
            for (const reader of eventReaders) reader.write(event);
          }
          setTimeout(() => replies.delete(id), KEEP_FINISHED_MS).unref();
        },
      });
      return id;
    },

    stream(id, url, req, res) {
      const reply = replies.get(id);
      if (!reply) return sendJson(res, 404, { error: "not_found", message: `no reply ${id}` });
      startSse(res);
      const after = countParam(url, "after");
      if (after < reply.frames.length) res.write(reply.frames.slice(after).join(""));
      if (reply.end !== null) {
        res.end(reply.end);
        return;
      }
      reply.readers.add(res);
      req.on("close", () => reply.readers.delete(res));
    },

    events(req, res) {
      startSse(res);
      eventReaders.add(res);
      req.on("close", () => eventReaders.delete(res));
    },

    async close() {
      for (const reply of replies.values()) for (const reader of reply.readers) reader.destroy();
      for (const reader of eventReaders) reader.destroy();
    },
  };
}

/**
 * The floor with a durable send: the message row and its reply row committed in one transaction
 * (one statement, one round trip, as few as a send can have), then one Redis write, then the 202.
 */
function createDurablePeer(): Peer {
  const floor = createFloorPeer();
  // As many connections as the app's pool (lib/db/client.ts).
  const sql = postgres(DATABASE_URL, { max: 10, onnotice: () => {} });
  const redis = new Redis(REDIS_URL);
  redis.on("error", (error: unknown) => console.error("redis:", error));
  const run = `${process.pid}-${Date.now()}`;
  const keyPrefix = `bench-durable-${run}`;
  const ready = (async () => {
    // Several runs may start at once: a concurrent CREATE can fail on the catalog; the second try sees it.
    for (let tries = 0; ; tries++) {
      try {
        await sql`create schema if not exists bench_durable`;
        await sql`create table if not exists bench_durable.messages (
          id uuid primary key,
          reply_to uuid,
          run text not null,
          role text not null,
          content text not null,
          status text not null,
          created_at timestamptz not null default now()
        )`;
        break;
      } catch (error) {
        if (tries >= 2) throw error;
      }
    }
    if (redis.status !== "ready") await once(redis, "ready");
  })();
  return {
    ...floor,
    ready,
    async store(id) {
      const messageId = randomUUID();
      await sql`insert into bench_durable.messages (id, reply_to, run, role, content, status) values
        (${messageId}, null, ${run}, 'user', 'bench', 'done'),
        (${id}, ${messageId}, ${run}, 'assistant', '', 'queued')`;
      await redis.set(`${keyPrefix}:${id}`, "queued", "EX", 3600);
    },
    async close() {
      await floor.close();
      try {
        await sql`delete from bench_durable.messages where run = ${run}`;
      } catch {}
      await Promise.allSettled([sql.end({ timeout: 1 }), redis.quit()]);
    },
  };
}

function createResumablePeer(): Peer {
  const publisher = new Redis(REDIS_URL);
  const subscriber = new Redis(REDIS_URL);
  for (const client of [publisher, subscriber]) {
    client.on("error", (error: unknown) => console.error("redis:", error));
  }
  // Listen only once both connections are ready: a SUBSCRIBE sent while ioredis is still in its
  // ready check puts the connection in subscriber mode, the check's INFO then fails ("Connection
  // in subscriber mode") and early readers time out waiting for their ack.
  const ready = Promise.all(
    [publisher, subscriber].map((client) => (client.status === "ready" ? undefined : once(client, "ready"))),
  ).then(() => {});
  const background = new Set<Promise<unknown>>();
  const keyPrefix = `bench-rs-${process.pid}-${Date.now()}`;
  const context: ResumableStreamContext = createResumableStreamContext({
    keyPrefix,
    publisher,
    subscriber,
    // A long-lived server needs no waitUntil; we only keep track of the promises.
    waitUntil: (promise) => {
      background.add(promise);
      promise.finally(() => background.delete(promise)).catch(() => {});
    },
  });
  /**
   * Replies whose createNewResumableStream has not resolved yet (the sentinel may not exist): a
   * reader that comes right after the 202 waits for it instead of getting "unknown id".
   */
  const creating = new Map<string, Promise<void>>();
  const readers = new Set<ReadableStreamDefaultReader<string>>();

  return {
    ready,

    create(tokens, tps) {
      const id = randomUUID();
      const makeStream = () =>
        new ReadableStream<string>({
          start(controller) {
            startProduction(tokens, tps, {
              chunk: (seq, text, ts) => controller.enqueue(chunkFrame(seq, text, ts)),
              done: (lastSeq) => {
                controller.enqueue(doneFrame(lastSeq));
                controller.close();
              },
            });
          },
        });
      const created = context.createNewResumableStream(id, makeStream).then((returned) => {
        // Nobody reads this one: the producer loop runs without it (see the top of the file), and
        // cancelling it keeps it from holding a second copy of every chunk.
        returned?.cancel().catch(() => {});
      });
      creating.set(id, created);
      created
        .catch((error: unknown) => console.error(`createNewResumableStream(${id}) failed:`, error))
        .finally(() => creating.delete(id));
      return id;
    },

    async stream(id, url, req, res) {
      let gone = false;
      req.on("close", () => {
        gone = true;
      });
      let stream: ReadableStream<string> | null | undefined;
      try {
        await creating.get(id);
        stream = await context.resumeExistingStream(id, countParam(url, "chars"));
      } catch (error) {
        if (!res.headersSent && !gone) sendJson(res, 502, { error: "resume_failed", message: String(error) });
        return;
      }
      if (stream === undefined) return sendJson(res, 404, { error: "not_found", message: `no reply ${id}` });
      if (stream === null) {
        return sendJson(res, 410, {
          error: "finished",
          message:
            "resumable-stream returns null from resumeExistingStream once a stream is done: it keeps no " +
            "replay after the producer finishes (the caller is expected to read the final text from a database).",
        });
      }
      const reader = stream.getReader();
      if (gone) {
        reader.cancel().catch(() => {});
        return;
      }
      readers.add(reader);
      req.on("close", () => reader.cancel().catch(() => {}));
      startSse(res);
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value) res.write(value);
        }
        res.end();
      } catch {
        res.destroy();
      } finally {
        readers.delete(reader);
      }
    },

    events(_req, res) {
      sendJson(res, 404, { error: "not_found", message: "/events exists only for PEER_KIND=floor" });
    },

    async close() {
      await Promise.allSettled([...readers].map((reader) => reader.cancel()));
      // Best effort: drop this run's keys now rather than in 24 h.
      try {
        let cursor = "0";
        do {
          const [next, keys] = await publisher.scan(cursor, "MATCH", `${keyPrefix}:*`, "COUNT", 1000);
          cursor = next;
          if (keys.length > 0) await publisher.del(...keys);
        } while (cursor !== "0");
      } catch {}
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Server

const peer = KIND === "floor" ? createFloorPeer() : KIND === "durable" ? createDurablePeer() : createResumablePeer();
const STREAM_PATH = /^\/replies\/([^/]+)\/stream$/;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://peer");
  const { pathname } = url;
  if (req.method === "POST" && pathname === "/replies") {
    const parsed = parseReplyRequest(await readBody(req));
    if (typeof parsed === "string") return sendJson(res, 400, { error: "bad_request", message: parsed });
    if (!peer.store) return sendJson(res, 202, { id: peer.create(parsed.tokens, parsed.tps) });
    const id = randomUUID();
    await peer.store(id);
    return sendJson(res, 202, { id: peer.create(parsed.tokens, parsed.tps, id) });
  }
  if (req.method === "GET") {
    const match = STREAM_PATH.exec(pathname);
    if (match?.[1]) return peer.stream(decodeURIComponent(match[1]), url, req, res);
    if (pathname === "/events") return peer.events(req, res);
    if (pathname === "/health") {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 2 });
      res.end("ok");
      return;
    }
  }
  sendJson(res, 404, { error: "not_found", message: `${req.method} ${pathname}` });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) sendJson(res, 500, { error: "internal", message: String(error) });
    else res.destroy();
  });
});
server.on("connection", (socket) => socket.setNoDelay(true));
server.keepAliveTimeout = 10 * 60_000;
server.headersTimeout = 60_000;
server.requestTimeout = 0;

await peer.ready;
server.listen(PORT, () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(1), 5000).unref();
  paced.clear();
  stopTimersWhenIdle();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await peer.close();
  server.closeAllConnections();
  await closed;
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
