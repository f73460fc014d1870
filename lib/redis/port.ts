import { createHash } from "node:crypto";
import { Redis as UpstashRedis } from "@upstash/redis";
import type { Cluster, Redis } from "ioredis";

// How the app's Redis users (the chunk store, the rate limiter, the stream slots) send their
// commands, whichever way they reach Redis: over a TCP connection (ioredis, a Redis or a Cluster),
// or over Upstash's REST API (`@upstash/redis`, HTTP requests and no connection of its own to
// hold, the fit for a serverless function). Everything they need is a Lua script or a plain
// command, so both ways give the same replies: strings, integers, null, arrays.

export type RedisArg = string | number;

export interface RedisPort {
  /** A Redis Cluster: every script's keys must share a slot (the chunk store lays its keys out so). */
  readonly clustered: boolean;
  /** Runs a Lua script: EVALSHA, and EVAL once when this Redis does not know the script yet. */
  run(script: string, keys: readonly string[], args: readonly RedisArg[]): Promise<unknown>;
  /**
   * `run` whose bulk replies stay bytes (Buffers) where the transport reads bytes (TCP): no string
   * of a whole reply item is made. Over REST they are the strings `run` gives.
   */
  runBytes(script: string, keys: readonly string[], args: readonly RedisArg[]): Promise<unknown>;
  /** One plain command (not HGETALL or another whose ioredis reply is reshaped). */
  command(name: string, ...args: RedisArg[]): Promise<unknown>;
}

const shas = new Map<string, string>();

function sha1Of(script: string): string {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash("sha1").update(script).digest("hex");
    shas.set(script, sha);
  }
  return sha;
}

const isNoScript = (error: unknown) => error instanceof Error && /NOSCRIPT/i.test(error.message);

/** EVALSHA, and EVAL when this Redis does not know the script yet (a restart empties its cache). */
async function withScriptCache<T>(bySha: () => Promise<T>, byText: () => Promise<T>): Promise<T> {
  try {
    return await bySha();
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return await byText();
  }
}

/**
 * The REST endpoint could not be reached, timed out, or refused the request (a bad token, a limit,
 * a proxy's error page): Redis is as good as down for this request, which answers 503.
 */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/**
 * What a REST call's failure is. `@upstash/redis` ends an error's message with the whole command
 * (", command was: […]": a chunk's text, a user's id), which no log line may carry: it is cut off.
 * An error Redis itself answered (its message starts with a code such as ERR, WRONGTYPE, NOSCRIPT)
 * stays one; anything else is an outage.
 */
function restFailure(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const at = message.indexOf(", command was:");
  const clean = at === -1 ? message : message.slice(0, at);
  if (error instanceof Error && error.name === "UpstashError" && /^[A-Z]+ /.test(clean) && !/limit/i.test(clean)) {
    const redisError = new Error(clean);
    redisError.name = "ReplyError";
    return redisError;
  }
  const name = error instanceof Error ? error.name : "Error";
  return new RedisUnavailableError(`Redis REST endpoint failed: ${name}: ${clean}`.slice(0, 300));
}

/** A port over an ioredis connection: a Redis, or a Cluster (it routes a script by its first key). */
export function tcpPort(client: Redis | Cluster): RedisPort {
  // ioredis has a Buffer variant of every command, but its types leave these two out; callBuffer
  // is no way round it: under auto-pipelining it drops the command's name.
  const bytes = client as unknown as Record<"evalshaBuffer" | "evalBuffer", (...args: RedisArg[]) => Promise<unknown>>;
  return {
    clustered: client.isCluster,
    run: (script, keys, args) =>
      withScriptCache(
        () => client.evalsha(sha1Of(script), keys.length, ...keys, ...args),
        () => client.eval(script, keys.length, ...keys, ...args),
      ),
    runBytes: (script, keys, args) =>
      withScriptCache(
        () => bytes.evalshaBuffer(sha1Of(script), keys.length, ...keys, ...args),
        () => bytes.evalBuffer(script, keys.length, ...keys, ...args),
      ),
    command: (name, ...args) => client.call(name, ...args),
  };
}

export interface RestCredentials {
  url: string;
  token: string;
}

/**
 * A port over Upstash's REST API. Commands issued together share one HTTP request (the client's
 * auto-pipelining); a request that gets no answer in `timeoutMs` fails, as a TCP command would, so
 * the web answers 503 instead of hanging; one quick retry covers a dropped keep-alive socket.
 */
export function restPort({ url, token }: RestCredentials, timeoutMs: number): RedisPort {
  const client = new UpstashRedis({
    url,
    token,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: { retries: 1, backoff: () => 20 },
    signal: () => AbortSignal.timeout(timeoutMs),
  });
  const port: RedisPort = {
    clustered: false,
    run: (script, keys, args) => {
      const values = args.map(String);
      return withScriptCache(
        () => client.evalsha(sha1Of(script), [...keys], values),
        () => client.eval(script, [...keys], values),
      ).catch((error: unknown) => {
        throw restFailure(error);
      });
    },
    runBytes: (script, keys, args) => port.run(script, keys, args),
    command: (name, ...args) =>
      client.exec([name, ...args.map(String)]).catch((error: unknown) => {
        throw restFailure(error);
      }),
  };
  return port;
}
