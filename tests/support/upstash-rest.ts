import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";

// A small server that speaks Upstash's REST protocol in front of a real Redis, for tests: what the
// `@upstash/redis` client sends, a real Redis answers. The protocol (as the client uses it):
//  - every request is POST with `Authorization: Bearer <token>` (else 401 {"error": "Unauthorized"});
//  - `/` takes one command as a JSON array, `["SET", "k", "v"]`, and answers {"result": …}, or 400
//    {"error": "…"} when Redis answered an error;
//  - `/pipeline` takes an array of commands and answers an array of {"result"} / {"error"}, one per
//    command, in order; `/multi-exec` does the same inside MULTI … EXEC (atomic);
//  - with `Upstash-Encoding: base64` every bulk string of the answer is base64 (simple strings such
//    as "OK" and integers are not), so binary values survive JSON.
// The path form (`GET /set/k/v`) is served too. Each request runs on a connection of its own from a
// small pool, so a MULTI never interleaves with another request's commands.

type Reply = string | number | null | Buffer | ReplyError | Reply[];

class ReplyError {
  constructor(readonly message: string) {}
}

/** Parses RESP2 replies from a socket, in order. */
class RespConnection {
  private buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve(reply: Reply): void; reject(error: Error): void }> = [];
  failed: Error | null = null;

  constructor(readonly socket: Socket) {
    socket.on("data", (data) => {
      this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
      this.drain();
    });
    const fail = (error: Error) => {
      this.failed = error;
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("Redis connection closed")));
  }

  /** Sends the commands at once and resolves with their replies. */
  send(commands: readonly (readonly string[])[]): Promise<Reply[]> {
    if (this.failed) return Promise.reject(this.failed);
    const parts: Buffer[] = [];
    for (const command of commands) {
      parts.push(Buffer.from(`*${command.length}\r\n`));
      for (const arg of command) {
        const bytes = Buffer.from(arg);
        parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
      }
    }
    const replies = commands.map(() => new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.socket.write(Buffer.concat(parts));
    return Promise.all(replies);
  }

  private drain() {
    while (this.waiting.length > 0) {
      const parsed = parseReply(this.buffer, 0);
      if (!parsed) return;
      this.buffer = this.buffer.subarray(parsed.end);
      this.waiting.shift()?.resolve(parsed.reply);
    }
  }
}

function parseReply(buffer: Buffer, start: number): { reply: Reply; end: number } | null {
  const lineEnd = buffer.indexOf("\r\n", start);
  if (lineEnd === -1) return null;
  const type = String.fromCharCode(buffer[start] ?? 0);
  const line = buffer.toString("utf8", start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return { reply: line, end: next };
    case "-":
      return { reply: new ReplyError(line), end: next };
    case ":":
      return { reply: Number(line), end: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { reply: null, end: next };
      if (buffer.length < next + length + 2) return null;
      return { reply: buffer.subarray(next, next + length), end: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { reply: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (!item) return null;
        items.push(item.reply);
        at = item.end;
      }
      return { reply: items, end: at };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

type Encoded = string | number | null | Encoded[];

function encode(reply: Reply, base64: boolean): Encoded {
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString("base64") : reply.toString("utf8");
  if (Array.isArray(reply)) return reply.map((item) => encode(item, base64));
  if (reply instanceof ReplyError) return reply.message;
  return reply;
}

function entry(reply: Reply, base64: boolean): { result: Encoded } | { error: string } {
  return reply instanceof ReplyError ? { error: reply.message } : { result: encode(reply, base64) };
}

export interface UpstashRestServer {
  url: string;
  token: string;
  /** Requests answered, by path ("/", "/pipeline", "/multi-exec", or "path" for the path form). */
  requests: Record<string, number>;
  close(): Promise<void>;
}

function isCommand(value: unknown): value is Array<string | number | boolean> {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((arg) => typeof arg === "string" || typeof arg === "number" || typeof arg === "boolean")
  );
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts the server on a free loopback port, in front of the Redis at `redisUrl` (its db number too). */
export async function startUpstashRest(redisUrl: string, token = "test-upstash-token"): Promise<UpstashRestServer> {
  const target = new URL(redisUrl);
  const db = target.pathname.replace("/", "") || "0";
  const idle: RespConnection[] = [];
  const all = new Set<RespConnection>();

  async function take(): Promise<RespConnection> {
    const ready = idle.pop();
    if (ready) return ready;
    const socket = connect(Number(target.port || 6379), target.hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.setNoDelay(true);
    const connection = new RespConnection(socket);
    all.add(connection);
    socket.on("close", () => all.delete(connection));
    if (db !== "0") await connection.send([["SELECT", db]]);
    return connection;
  }

  async function run(commands: string[][], transaction: boolean): Promise<Reply[]> {
    const connection = await take();
    try {
      if (!transaction) return await connection.send(commands);
      const replies = await connection.send([["MULTI"], ...commands, ["EXEC"]]);
      const exec = replies[replies.length - 1];
      if (exec instanceof ReplyError || !Array.isArray(exec)) {
        // EXECABORT: a command was refused while queued; its own error tells which.
        const refused = replies.slice(1, -1).find((reply) => reply instanceof ReplyError);
        throw refused ?? exec ?? new ReplyError("EXECABORT Transaction discarded");
      }
      return exec;
    } finally {
      if (!connection.failed && idle.length < 16) idle.push(connection);
      else connection.socket.end();
    }
  }

  const requests: Record<string, number> = {};
  const server: Server = createServer(async (request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    try {
      if (request.headers.authorization !== `Bearer ${token}`) return answer(401, { error: "Unauthorized" });
      const base64 = String(request.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const path = new URL(request.url ?? "/", "http://localhost").pathname;
      const raw = await readBody(request);
      if (path === "/pipeline" || path === "/multi-exec") {
        const commands = JSON.parse(raw) as unknown;
        if (!Array.isArray(commands) || commands.length === 0 || !commands.every(isCommand)) {
          return answer(400, { error: "ERR a pipeline is a non-empty array of commands" });
        }
        const key = path;
        requests[key] = (requests[key] ?? 0) + 1;
        try {
          const replies = await run(
            commands.map((command) => command.map(String)),
            path === "/multi-exec",
          );
          return answer(
            200,
            replies.map((reply) => entry(reply, base64)),
          );
        } catch (error) {
          if (error instanceof ReplyError) return answer(400, { error: error.message });
          throw error;
        }
      }
      let command: unknown;
      if (path === "/") {
        command = JSON.parse(raw);
        requests["/"] = (requests["/"] ?? 0) + 1;
      } else {
        command = [...path.slice(1).split("/").map(decodeURIComponent), ...(raw ? [raw] : [])];
        requests.path = (requests.path ?? 0) + 1;
      }
      if (!isCommand(command)) return answer(400, { error: "ERR a command is a non-empty array of strings" });
      const [reply] = await run([command.map(String)], false);
      if (reply instanceof ReplyError) return answer(400, { error: reply.message });
      return answer(200, { result: encode(reply ?? null, base64) });
    } catch (error) {
      answer(500, { error: error instanceof Error ? error.message : String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    token,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of all) connection.socket.destroy();
    },
  };
}
