import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { API_ROUTES, pathSegments } from "../../lib/http/method-guard";
import type { RunningApp } from "../support/app";
import { ApiClient } from "../support/client";
import { RawTimeout, rawBytes, rawRequest } from "../support/raw-http";

// A bounded fuzzer of the HTTP API: every route of lib/http/method-guard.ts (the table of app/api
// and pages/api), with its methods and wrong ones, path ids, query fields and cursors, headers and
// bodies, drawn by fast-check from a seed. It fails on any 5xx, any answer slower than 5 s, an
// /api error whose body is not the contract's `{error:{code,message,fields?}}`, and any error that
// shows a stack, SQL or Redis text (only errors: a 200 carries the user's own text, and the mock's
// replies hold SQL snippets). Ids are drawn as kinds (own, another user's, random,
// malformed) and named at run time, so a seed replays the same requests against a fresh app.

export const HANG_MS = 5000;

type IdKind = "ownSession" | "otherSession" | "ownUser" | "ownAssistant" | "otherMessage" | "random" | "upper" | "bad";
type CookieKind = "own" | "other" | "none" | "forged" | "garbage" | "twice";

interface Draw {
  route: string;
  method: string;
  ids: IdKind[];
  badIds: string[];
  query: Array<[string, string]>;
  cookie: CookieKind;
  headers: Array<[string, string]>;
  body: { kind: "none" } | { kind: "json"; value: unknown } | { kind: "text"; text: string };
  suffix: string;
}

export interface Failure {
  /** The route pattern (or raw line) it was drawn for. */
  route: string;
  request: string;
  status: number | "hang" | "error";
  why: string;
  body: string;
}

export interface FuzzTotals {
  mode: string;
  seed: number;
  requests: number;
  fiveHundreds: number;
  hangs: number;
  /**
   * Connections reset while a body over 64 KB was still being sent, which the route answered
   * without reading: Node closes the socket after its answer and the peer's unread data becomes
   * a reset (no lingering close), which may drop the answer at the client. Counted, not failed.
   */
  resets: number;
  failures: Failure[];
  statuses: Record<string, number>;
}

// Header values Node's client sends as they are: printable Latin-1, tabs.
const headerText = fc.string({
  unit: fc.mapToConstant(
    { num: 95, build: (v) => String.fromCharCode(32 + v) },
    { num: 96, build: (v) => String.fromCharCode(160 + v) },
  ),
  maxLength: 60,
});
// Text of any code point, lone surrogates and NUL included.
const wildText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "x\udfffy",
    "\u202e",
    "%",
    "%00",
    "null",
    "undefined",
    "0",
    "-1",
  ),
  fc.string({ unit: "binary-ascii", maxLength: 40 }),
);
const isoish = fc.oneof(
  fc.date().map((date) => (Number.isNaN(date.getTime()) ? "Invalid Date" : date.toISOString())),
  fc.constantFrom(
    "0000-01-01T00:00:00.000Z",
    "+275760-09-13T00:00:00.000Z",
    "-000001-01-01T00:00:00.000Z",
    "1969-12-31T23:59:59.999Z",
    "9999-12-31T23:59:59.999Z",
    "2026-02-30T00:00:00Z",
    "now",
  ),
);
const numberText = fc.oneof(
  fc.integer({ min: -5, max: 205 }).map(String),
  fc.constantFrom(
    "",
    "1e309",
    "NaN",
    "Infinity",
    "1.5",
    "0x10",
    " 7",
    "007",
    "-0",
    "99999999999999999999",
    "1,2",
    "[]",
  ),
);
const eventId = fc.oneof(
  fc
    .tuple(
      fc.constantFrom("<own>", "<random>", "junk"),
      fc.integer({ min: -2, max: 1e6 }),
      fc.integer({ min: -2, max: 2 ** 53 }),
    )
    .map(([id, attempt, seq]) => `${id}:${attempt}:${seq}`),
  wildText,
);
const cursor = fc.oneof(
  fc.constant("<next>"),
  fc.tuple(isoish, fc.constantFrom("<own>", "<random>", "x", "")).map(([iso, id]) => `<b64>${iso}|${id}`),
  fc.string({ unit: "binary", maxLength: 40 }).map((text) => `<b64>${text}`),
  wildText,
);

const field =
  (name: string) =>
  (value: string): [string, string] => [name, value];
const queryFields: Record<string, fc.Arbitrary<[string, string]>> = {
  "/api/chat/sessions": fc.oneof(numberText.map(field("limit")), cursor.map(field("cursor"))),
  "/api/chat/search": fc.oneof(
    wildText.map(field("q")),
    numberText.map(field("limit")),
    fc.constant(field("q")("x".repeat(201))),
  ),
  "/api/chat/stream": fc.oneof(
    eventId.map(field("lastEventId")),
    fc.array(eventId, { maxLength: 6 }).map((v) => field("cursors")(v.join(","))),
  ),
  "/api/chat/stream/:sessionId": eventId.map(field("lastEventId")),
  "/api/auth/*": fc.oneof(
    fc
      .constantFrom("javascript:alert(1)", "/chat", "http://evil.example/", "//evil", "data:text/html,x", "")
      .map(field("callbackUrl")),
    fc.constantFrom("Configuration", "AccessDenied", "Verification", "x").map(field("error")),
  ),
  "/api/auth/callback/guest": fc.constantFrom("javascript:x", "/").map(field("callbackUrl")),
};
const anyQuery: fc.Arbitrary<[string, string]> = fc.tuple(
  fc.constantFrom("limit", "q", "cursor", "x", "__proto__", ""),
  wildText,
);

const uuidField = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom("<ownSession>", "<otherSession>", "<ownUser>", "<ownAssistant>", "<random>"),
  },
  { weight: 1, arbitrary: wildText },
  { weight: 1, arbitrary: fc.constantFrom(null, 0, "<random>".toUpperCase()) },
);
const content = fc.oneof(
  wildText,
  fc
    .tuple(
      fc.integer({ min: -1, max: 50 }),
      fc.constantFrom("0", "1000", "-3", "x"),
      fc.constantFrom("", " fail=once", " fail=always", " fail=429", " ttft=-1", " fail=zzz"),
    )
    .map(([tokens, tps, rest]) => `/mock tokens=${tokens} tps=${tps}${rest}\nfuzz`),
  fc.constantFrom("x".repeat(32_001), "😀".repeat(16_001), "   \n\t ", "/mock", "/mock tokens=1e9"),
);
const messageFields = {
  sessionId: uuidField,
  content: fc.oneof({ weight: 5, arbitrary: content }, fc.integer(), fc.constant(null), fc.array(fc.string())),
  clientMessageId: uuidField,
  parentMessageId: uuidField,
  model: fc.oneof(fc.constantFrom("mock-1", "mock-2", ""), wildText, fc.integer()),
  systemPrompt: fc.oneof(wildText, fc.constant(null), fc.constant("p".repeat(8001))),
};
const jsonBodies: Record<string, fc.Arbitrary<unknown>> = {
  // Most sends name the two fields a send needs; some name any.
  "/api/chat/messages": fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record(
        {
          content,
          clientMessageId: fc.constant("<random>"),
          sessionId: fc.constant("<ownSession>"),
          model: fc.constant("mock-2"),
        },
        { requiredKeys: ["content", "clientMessageId"] },
      ),
    },
    { weight: 2, arbitrary: fc.record(messageFields, { requiredKeys: ["content", "clientMessageId"] }) },
    { weight: 1, arbitrary: fc.record(messageFields, { requiredKeys: [] }) },
  ),
  "/api/chat/regenerate/:sessionId/:messageId": fc.record(
    { clientMessageId: uuidField, model: fc.oneof(fc.constantFrom("mock-1", "mock-2"), wildText) },
    { requiredKeys: [] },
  ),
  "/api/chat/sessions/:sessionId": fc.record(
    {
      title: fc.oneof(wildText, fc.constant("t".repeat(201)), fc.integer(), fc.constant(null)),
      systemPrompt: fc.oneof(wildText, fc.constant(null), fc.constant("p".repeat(8001))),
      activeLeafId: uuidField,
    },
    { requiredKeys: [] },
  ),
};
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2 }).map((value) => JSON.parse(JSON.stringify(value ?? null))),
);
const textBody = fc.oneof(
  wildText,
  fc.constantFrom(
    "{",
    '{"content":',
    "[".repeat(5000),
    `${"[".repeat(3000)}${"]".repeat(3000)}`,
    "\u0000",
    "null",
    '"\\ud800"',
    '{"__proto__":{"x":1}}',
  ),
  fc.constant("x".repeat(1_000_100)),
);

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const ODD_METHODS = ["TRACE", "PROPFIND", "MKCOL", "PURGE", "SEARCH", "LOCK", "QUERY", "REPORT"];
const EXTRA_ROUTES = [
  "/api/nothing",
  "/api/chat",
  "/api/chat/stream/:sessionId/more",
  "/api",
  "/",
  "/chat/:sessionId",
  "/api/chat/sessions/:sessionId/messages/:messageId",
];
const ROUTES = [...API_ROUTES.map((route) => route.pattern), ...EXTRA_ROUTES];

// The routes with the most input are drawn more often.
const WEIGHTS: Record<string, number> = {
  "/api/chat/messages": 5,
  "/api/chat/sessions": 2,
  "/api/chat/sessions/:sessionId": 2,
  "/api/chat/regenerate/:sessionId/:messageId": 2,
  "/api/chat/search": 2,
};
const routeDraw = fc.oneof(...ROUTES.map((route) => ({ weight: WEIGHTS[route] ?? 1, arbitrary: fc.constant(route) })));

const draw: fc.Arbitrary<Draw> = routeDraw.chain((route) => {
  const allowed = API_ROUTES.find((entry) => entry.pattern === route)?.methods ?? ["GET"];
  const slots = (route.match(/:[A-Za-z]+/g) ?? []).length;
  return fc.record({
    route: fc.constant(route),
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...allowed) },
      { weight: 2, arbitrary: fc.constantFrom(...METHODS) },
      { weight: 1, arbitrary: fc.constantFrom(...ODD_METHODS) },
    ),
    ids: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom<IdKind>("ownSession", "ownUser", "ownAssistant") },
        { weight: 3, arbitrary: fc.constantFrom<IdKind>("otherSession", "otherMessage", "random", "upper", "bad") },
      ),
      { minLength: slots, maxLength: slots },
    ),
    badIds: fc.array(
      fc.oneof(
        fc.constantFrom(
          "",
          "..",
          ".",
          "%2e",
          "%2E%2E",
          "%2F",
          "%00",
          "null",
          "1",
          "%E0%A4%A",
          "%25",
          "a%2Fb",
          "x".repeat(300),
        ),
        fc.string({ unit: fc.mapToConstant({ num: 94, build: (v) => String.fromCharCode(33 + v) }), maxLength: 40 }),
      ),
      { minLength: slots, maxLength: slots },
    ),
    query: fc.array(
      fc.oneof({ weight: 4, arbitrary: queryFields[route] ?? anyQuery }, { weight: 1, arbitrary: anyQuery }),
      { maxLength: 3 },
    ),
    cookie: fc.oneof(
      { weight: 6, arbitrary: fc.constant<CookieKind>("own") },
      { weight: 3, arbitrary: fc.constantFrom<CookieKind>("other", "none", "forged", "garbage", "twice") },
    ),
    headers: fc.array(
      fc.oneof(
        fc.tuple(fc.constantFrom("origin"), fc.constantFrom("<same>", "http://evil.example", "null", "", "::")),
        fc.tuple(fc.constantFrom("x-correlation-id"), fc.oneof(fc.uuid().map(String), headerText)),
        fc.tuple(
          fc.constantFrom("last-event-id"),
          eventId.filter((v) => /^[\t\x20-\x7e]*$/.test(v)),
        ),
        fc.tuple(
          fc.constantFrom("x-forwarded-host", "x-forwarded-for", "x-forwarded-proto", "host"),
          fc.oneof(headerText, fc.constantFrom("", "a,b", "[::1]", "javascript:")),
        ),
        fc.tuple(
          fc.constantFrom("content-type"),
          fc.constantFrom(
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "",
          ),
        ),
        fc.tuple(
          fc.constantFrom(
            "accept",
            "accept-encoding",
            "range",
            "if-none-match",
            "authorization",
            "expect",
            "transfer-encoding",
          ),
          fc.oneof(headerText, fc.constantFrom("bytes=0-1", "Bearer x", "gzip, br", "*/*", "text/event-stream")),
        ),
      ),
      { maxLength: 3 },
    ),
    body: fc.oneof(
      { weight: 2, arbitrary: fc.constant({ kind: "none" as const }) },
      { weight: 5, arbitrary: (jsonBodies[route] ?? anyJson).map((value) => ({ kind: "json" as const, value })) },
      { weight: 1, arbitrary: anyJson.map((value) => ({ kind: "json" as const, value })) },
      { weight: 2, arbitrary: textBody.map((text) => ({ kind: "text" as const, text })) },
    ),
    suffix: fc.oneof(
      { weight: 9, arbitrary: fc.constant("") },
      { weight: 1, arbitrary: fc.constantFrom("/", "//", "/.", "?", "#x", "%", "%zz", ";x", "/%2e%2e") },
    ),
  });
});

interface World {
  own: ApiClient;
  other: ApiClient;
  ownSession: string;
  ownUser: string;
  ownAssistant: string;
  otherSession: string;
  otherMessage: string;
  nextCursor: string;
  host: string;
  /** A chat of `own` that a drawn DELETE of "its own session" deletes, so the others stay. */
  spareSession: string;
}

/** Two guests with a chat each (the first with three: a page cursor exists, and one is spare). */
async function makeWorld(app: RunningApp): Promise<World> {
  const own = await ApiClient.guest(app.baseUrl);
  const other = await ApiClient.guest(app.baseUrl);
  const first = await own.send("/mock tokens=3 tps=0\nfuzz world");
  await own.send("/mock tokens=3 tps=0\nsecond chat");
  const theirs = await other.send("/mock tokens=3 tps=0\ntheirs");
  const spare = await own.send("/mock tokens=3 tps=0\nspare");
  await own.readSse(first.streamUrl);
  const page = await own.json<{ nextCursor: string }>("/api/chat/sessions?limit=1");
  return {
    own,
    other,
    ownSession: first.sessionId,
    ownUser: first.userMessageId,
    ownAssistant: first.assistantMessageId,
    otherSession: theirs.sessionId,
    otherMessage: theirs.assistantMessageId,
    nextCursor: page.body.nextCursor,
    host: new URL(app.baseUrl).host,
    spareSession: spare.sessionId,
  };
}

function idOf(world: World, kind: IdKind, bad: string): string {
  switch (kind) {
    case "ownSession":
      return world.ownSession;
    case "ownUser":
      return world.ownUser;
    case "ownAssistant":
      return world.ownAssistant;
    case "otherSession":
      return world.otherSession;
    case "otherMessage":
      return world.otherMessage;
    case "random":
      return randomUUID();
    case "upper":
      return world.ownSession.toUpperCase();
    case "bad":
      return bad;
  }
}

/** Placeholders in drawn text (`<own>`, `<next>`, `<b64>…`) named for this world. */
function named(world: World, text: string): string {
  if (text === "<next>") return world.nextCursor;
  const replaced = text
    .replaceAll("<ownSession>", world.ownSession)
    .replaceAll("<otherSession>", world.otherSession)
    .replaceAll("<ownUser>", world.ownUser)
    .replaceAll("<ownAssistant>", world.ownAssistant)
    .replaceAll("<own>", world.ownAssistant)
    .replaceAll("<random>", randomUUID());
  return replaced.startsWith("<b64>") ? Buffer.from(replaced.slice(5)).toString("base64url") : replaced;
}

function namedJson(world: World, value: unknown): unknown {
  if (typeof value === "string") return named(world, value);
  if (Array.isArray(value)) return value.map((item) => namedJson(world, item));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, namedJson(world, item)]));
  }
  return value;
}

/** encodeURIComponent, and a lone surrogate as the bytes of U+FFFD (encodeURIComponent throws on it). */
function encode(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((byte) =>
      /[A-Za-z0-9\-_.!~*'()]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
    )
    .join("");
}

interface Built {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string | undefined;
}

function build(world: World, d: Draw): Built {
  let slot = 0;
  const path = d.route.replace(/:[A-Za-z]+|\*$/g, (part) => {
    if (part === "*") return "session";
    const index = slot++;
    const kind = d.ids[index] ?? "random";
    if (d.method === "DELETE" && kind === "ownSession") return world.spareSession;
    if (d.method === "DELETE" && kind === "upper") return world.spareSession.toUpperCase();
    return idOf(world, kind, d.badIds[index] ?? "x");
  });
  const query = d.query.map(([name, value]) => `${encode(name)}=${encode(named(world, value))}`).join("&");
  const headers: Record<string, string | string[]> = {};
  const session = (client: ApiClient) => client.cookie;
  if (d.cookie === "own") headers.cookie = session(world.own);
  if (d.cookie === "other") headers.cookie = session(world.other);
  if (d.cookie === "forged") headers.cookie = "authjs.session-token=forged.forged.forged";
  if (d.cookie === "garbage") headers.cookie = "=;;=x; authjs.session-token; %zz=%zz";
  if (d.cookie === "twice") headers.cookie = [session(world.other), session(world.own)];
  for (const [name, value] of d.headers) {
    if (name === "transfer-encoding" || name === "expect") continue; // they change the framing, not the input
    headers[name] = value === "<same>" ? `http://${world.host}` : value;
  }
  let body: string | undefined;
  if (d.body.kind === "json") {
    body = JSON.stringify(namedJson(world, d.body.value)) ?? "null";
    headers["content-type"] ??= "application/json";
  } else if (d.body.kind === "text") {
    body = d.body.text;
  }
  // Node's client sends the body of a GET, HEAD or DELETE unframed (the server would read it as the next request).
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  return { method: d.method, path: `${path}${query ? `?${query}` : ""}${d.suffix}`, headers, body };
}

const RESET = /aborted|ECONNRESET|EPIPE|socket hang up/;
const ERROR_KEYS = new Set(["code", "message", "fields"]);
const LEAKS: Array<[string, RegExp]> = [
  ["a stack trace", /\bat (async )?[\w$.<>]+ \(|\bat .+:\d+:\d+|node:internal|webpack-internal|\.next\/server/],
  [
    "SQL",
    /\b(select|insert into|update|delete from)\b.*\b(from|where|values|set)\b|syntax error at|violates .* constraint|relation "|SQLSTATE|PostgresError|drizzle/i,
  ],
  ["Redis text", /\b(WRONGTYPE|NOSCRIPT|ERR wrong|ECONNREFUSED|ioredis|MaxRetriesPerRequest|READONLY|CROSSSLOT)\b/],
];

/** What is wrong with this answer, or null. */
export function judge(request: Built, status: number, contentType: string, body: string): string | null {
  if (status >= 500) return `a ${status}`;
  if (status < 400) return null;
  for (const [what, pattern] of LEAKS) if (pattern.test(body)) return `${what} in an error body`;
  // The path as Next routes it: `/api/%2e%2e` is `/`, a page.
  const segments = pathSegments(request.path);
  if (segments && segments[0] !== "api") return null;
  if (request.method === "HEAD" || status === 304) return body === "" ? null : "a body on HEAD";
  if (!/^application\/json/.test(contentType)) return `an error without JSON (${contentType || "no content-type"})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return "an error body that is not JSON";
  }
  const error = (parsed as { error?: Record<string, unknown> })?.error;
  const shaped =
    parsed !== null &&
    typeof parsed === "object" &&
    Object.keys(parsed).length === 1 &&
    error !== null &&
    typeof error === "object" &&
    typeof error.code === "string" &&
    /^[a-z]+(_[a-z]+)*$/.test(error.code) &&
    typeof error.message === "string" &&
    error.message.length > 0 &&
    Object.keys(error).every((key) => ERROR_KEYS.has(key)) &&
    (error.fields === undefined ||
      (typeof error.fields === "object" &&
        error.fields !== null &&
        Object.values(error.fields).every((value) => typeof value === "string")));
  return shaped ? null : "an error body not of the contract's shape";
}

/** Describes a request in one line, for the report and the replay. */
function describeRequest(index: number, request: Built): string {
  const body = request.body === undefined ? "" : ` body=${JSON.stringify(request.body.slice(0, 120))}`;
  return `#${index} ${request.method} ${request.path.slice(0, 200)}${body}`;
}

async function one(app: RunningApp, world: World, index: number, d: Draw, totals: FuzzTotals): Promise<void> {
  const request = build(world, d);
  totals.requests++;
  const label = describeRequest(index, request);
  try {
    const answer = await rawRequest(app.baseUrl, request, HANG_MS, { peekEventStream: true });
    totals.statuses[answer.status] = (totals.statuses[answer.status] ?? 0) + 1;
    if (answer.status >= 500) totals.fiveHundreds++;
    const why = judge(request, answer.status, String(answer.headers["content-type"] ?? ""), answer.body);
    if (why)
      totals.failures.push({
        route: `${d.method} ${d.route}`,
        request: label,
        status: answer.status,
        why,
        body: answer.body.slice(0, 300),
      });
  } catch (error) {
    if (error instanceof RawTimeout) {
      totals.hangs++;
      totals.failures.push({
        route: `${d.method} ${d.route}`,
        request: label,
        status: "hang",
        why: `no answer within ${HANG_MS} ms`,
        body: "",
      });
    } else if ((request.body?.length ?? 0) > 65_536 && RESET.test(String(error))) {
      totals.resets++;
    } else {
      totals.failures.push({
        route: `${d.method} ${d.route}`,
        request: label,
        status: "error",
        why: String(error),
        body: "",
      });
    }
  }
}

/** A few requests fetch and the Node client cannot make: CONNECT, methods Node does not parse, broken framing. */
const RAW_LINES = [
  "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n",
  "TRACK /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
  "get /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
  "GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n",
  "POST /api/chat/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
  "GET /api/he\u0000alth HTTP/1.1\r\nHost: x\r\n\r\n",
];

async function rawLines(app: RunningApp, totals: FuzzTotals): Promise<void> {
  for (const [index, line] of RAW_LINES.entries()) {
    totals.requests++;
    const label = `raw#${index} ${JSON.stringify(line.slice(0, 60))}`;
    try {
      const text = await rawBytes(app.baseUrl, line, HANG_MS);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      totals.statuses[status] = (totals.statuses[status] ?? 0) + 1;
      if (status >= 500) totals.fiveHundreds++;
      const [head = "", body = ""] = text.split("\r\n\r\n");
      const contentType = /content-type: *([^\r\n]*)/i.exec(head)?.[1] ?? "";
      const why =
        status === 0
          ? "no HTTP answer"
          : judge({ method: "GET", path: "/api/", headers: {}, body: undefined }, status, contentType, body);
      if (why) totals.failures.push({ route: "raw", request: label, status, why, body: text.slice(0, 300) });
    } catch (error) {
      if (error instanceof RawTimeout) totals.hangs++;
      totals.failures.push({
        route: "raw",
        request: label,
        status: error instanceof RawTimeout ? "hang" : "error",
        why: String(error),
        body: "",
      });
    }
  }
}

/** Runs `runs` drawn requests (4 at a time) and the raw lines against a running app. */
export async function fuzzApp(app: RunningApp, options: { runs: number; seed: number }): Promise<FuzzTotals> {
  const world = await makeWorld(app);
  const draws = fc.sample(draw, { numRuns: options.runs, seed: options.seed });
  const totals: FuzzTotals = {
    mode: app.mode,
    seed: options.seed,
    requests: 0,
    fiveHundreds: 0,
    hangs: 0,
    resets: 0,
    failures: [],
    statuses: {},
  };
  await rawLines(app, totals);
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < draws.length; index = next++) {
      const d = draws[index];
      if (d) await one(app, world, index, d, totals);
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  // Still answering after all of it.
  const health = await fetch(`${app.baseUrl}/api/health`);
  if (health.status !== 200)
    totals.failures.push({
      route: "GET /api/health",
      request: "GET /api/health after the run",
      status: health.status,
      why: "not healthy",
      body: await health.text(),
    });
  return totals;
}

/** FUZZ_SEED, else a seed of this run (printed so the run can be replayed). */
export function seedOf(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.FUZZ_SEED);
  return Number.isInteger(given) && env.FUZZ_SEED !== "" ? given : Math.floor(Math.random() * 2 ** 31);
}

export function summary(totals: FuzzTotals): string {
  const lines = [
    `${totals.mode}: ${totals.requests} requests, ${totals.fiveHundreds} 5xx, ${totals.hangs} hangs, ${totals.failures.length} failures, ${totals.resets} resets of large bodies, seed ${totals.seed}`,
    `  statuses ${JSON.stringify(totals.statuses)}`,
  ];
  // One example of each kind of failure: what went wrong, on which route and method.
  const kinds = new Map<string, { count: number; example: Failure }>();
  for (const failure of totals.failures) {
    const key = `${failure.status} ${failure.why} on ${failure.route}`;
    const kind = kinds.get(key);
    if (kind) kind.count++;
    else kinds.set(key, { count: 1, example: failure });
  }
  for (const [key, { count, example }] of [...kinds].slice(0, 30)) {
    lines.push(
      `  ${count} × ${key}`,
      `    e.g. ${example.request}`,
      `    ${JSON.stringify(example.body.slice(0, 200))}`,
    );
  }
  return lines.join("\n");
}
