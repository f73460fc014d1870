// Which methods each /api route answers: the one table the server's front guard
// (lib/http/unroutable.ts) reads to answer a wrong method with the contract's 405 and `Allow`,
// and OPTIONS with 204 and `Allow`, before Next sees the request (Next's own 405 has no body).
// Keep it in step with app/api and pages/api: tests/fuzz walks every route of it.

const GET = ["GET", "HEAD"] as const;

export interface ApiRoute {
  /** A pattern of the path, `:name` for one segment, a final `*` for one or more. */
  pattern: string;
  methods: readonly string[];
}

export const API_ROUTES: readonly ApiRoute[] = [
  { pattern: "/api/auth/guest", methods: ["POST"] },
  { pattern: "/api/auth/callback/guest", methods: ["POST"] },
  // The rest of Auth.js (app/api/auth/[...nextauth]): it answers GET and POST, and HEAD not at all.
  { pattern: "/api/auth/*", methods: ["GET", "POST"] },
  { pattern: "/api/chat/messages", methods: ["POST"] },
  // No HEAD: the head of a stream would stay open for the stream's whole life.
  { pattern: "/api/chat/stream", methods: ["GET"] },
  { pattern: "/api/chat/stream/:sessionId", methods: ["GET"] },
  { pattern: "/api/chat/status/:sessionId/:messageId", methods: GET },
  { pattern: "/api/chat/active-streams", methods: GET },
  { pattern: "/api/chat/cancel/:sessionId/:messageId", methods: ["POST"] },
  { pattern: "/api/chat/regenerate/:sessionId/:messageId", methods: ["POST"] },
  { pattern: "/api/chat/search", methods: GET },
  { pattern: "/api/chat/sessions", methods: GET },
  { pattern: "/api/chat/sessions/:sessionId", methods: ["PATCH", "DELETE"] },
  { pattern: "/api/chat/sessions/:sessionId/messages", methods: GET },
  { pattern: "/api/models", methods: GET },
  { pattern: "/api/health", methods: GET },
  { pattern: "/api/metrics", methods: GET },
];

/** The methods this server handles at all; any other is a 405 on every path. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const compiled = API_ROUTES.map((route) => ({ route, segments: route.pattern.split("/").slice(1) }));

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  const rest = pattern[pattern.length - 1] === "*";
  if (rest ? segments.length < pattern.length : segments.length !== pattern.length) return false;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index];
    const part = pattern[Math.min(index, pattern.length - 1)] ?? "";
    if (part === "*" || part.startsWith(":") ? segment === "" : part !== segment) return false;
  }
  return true;
}

/**
 * The route that a path's segments (each decoded on its own: `%2F` stays inside its segment, as
 * Next routes it) name, or null (then Next answers: a page, or the JSON 404 of app/api/[...path]).
 * One trailing slash is ignored (Next redirects it).
 */
export function routeOf(segments: readonly string[]): ApiRoute | null {
  const parts = segments.at(-1) === "" && segments.length > 1 ? segments.slice(0, -1) : segments;
  if (parts[0] !== "api") return null;
  for (const { route, segments: pattern } of compiled) if (matches(pattern, parts)) return route;
  return null;
}

/**
 * A request target's path as the segments Next routes: each decoded on its own (`%2F` stays inside
 * its segment), `.` and `..` resolved (also as `%2e`), the query and a fragment dropped. Null
 * when a segment does not decode or the target is not a path.
 */
export function pathSegments(target: string): string[] | null {
  let end = target.length;
  const query = target.indexOf("?");
  if (query !== -1) end = query;
  const fragment = target.indexOf("#");
  if (fragment !== -1 && fragment < end) end = fragment;
  if (target.charCodeAt(0) !== 47 /* "/" */) return null;
  const raw = target.slice(1, end).split("/");
  const segments: string[] = [];
  for (let index = 0; index < raw.length; index++) {
    const part = raw[index] ?? "";
    let segment = part;
    // Most paths have no escape: no decoding to pay for.
    if (part.includes("%")) {
      try {
        segment = decodeURIComponent(part);
      } catch {
        return null;
      }
    }
    if (segment === "." || segment === "..") {
      if (segment === ".." && segments.length > 0) segments.pop();
      if (index === raw.length - 1) segments.push("");
    } else segments.push(segment);
  }
  return segments;
}

/** The `Allow` header of a route: its methods and OPTIONS. */
export function allowOf(route: ApiRoute): string {
  return [...route.methods, "OPTIONS"].join(", ");
}
