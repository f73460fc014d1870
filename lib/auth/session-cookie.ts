import "server-only";
import { decode, encode, type JWT } from "next-auth/jwt";
import { env } from "../env";
import { authSecret } from "./secret";

// Reads Auth.js's session cookie the way Auth.js does (same JWE, salt = the cookie name) without
// running its whole session pipeline per request, and without next/headers, so the Node SSE
// routes (pages/api) can use it as well as the App Router's.

export interface SignedInUser {
  id: string;
  name: string;
}

/** A session cookie issued again for a full life (the Set-Cookie value), for a session in use. */
export interface RenewedCookie {
  name: string;
  value: string;
  maxAge: number;
  secure: boolean;
}

export interface RequestSession {
  user: SignedInUser;
  /** Set when the cookie is old enough to be renewed: the response carries it. */
  renewed: RenewedCookie | null;
}

const SESSION_COOKIES = ["__Secure-authjs.session-token", "authjs.session-token"];
const DECODED_TTL_MS = 60_000;
const DECODED_MAX = 10_000;
const DAY_SECONDS = 24 * 3600;

/** How long a session lives after it was issued or last renewed (AUTH_SESSION_MAX_AGE_SECONDS). */
export function sessionMaxAgeSeconds(): number {
  return env().AUTH_SESSION_MAX_AGE_SECONDS;
}

/** A cookie this old is renewed by the next request that uses it (Auth.js's `updateAge`, a day). */
export function sessionRenewAfterSeconds(maxAge = sessionMaxAgeSeconds()): number {
  return Math.min(DAY_SECONDS, Math.ceil(maxAge / 4));
}

interface Decoded {
  user: SignedInUser | null;
  token: JWT | null;
  renewed: RenewedCookie | null;
  until: number;
}

/** Session cookie → its user, for a minute: decrypting the JWE on every API call was most of a request's CPU. */
const decoded = new Map<string, Decoded>();

/** The signed-in user whose session cookie `cookie(name)` returns, or null. */
export async function userFromCookies(cookie: (name: string) => string | undefined): Promise<SignedInUser | null> {
  return (await sessionFromCookies(cookie, false))?.user ?? null;
}

/**
 * The request's session: its user, and (with `renew`) the cookie issued again when this one is
 * past `sessionRenewAfterSeconds`, so a session in use never runs out. Null: no valid session.
 */
export async function sessionFromCookies(
  cookie: (name: string) => string | undefined,
  renew = true,
): Promise<RequestSession | null> {
  for (const name of SESSION_COOKIES) {
    // Auth.js splits a large cookie into name.0, name.1, …
    let value = cookie(name);
    let chunked = false;
    if (!value) {
      const parts: string[] = [];
      for (let i = 0; cookie(`${name}.${i}`); i++) parts.push(cookie(`${name}.${i}`) ?? "");
      value = parts.join("");
      chunked = true;
    }
    if (!value) continue;
    const entry = await decodeCookie(name, value);
    if (!entry.user) return null;
    // A chunked cookie is left to Auth.js's own renewal (GET /api/auth/session): its parts would need clearing.
    if (renew && !chunked && entry.token) entry.renewed ??= await renewal(name, entry.token);
    return { user: entry.user, renewed: renew && !chunked ? entry.renewed : null };
  }
  return null;
}

/** The cookie issued again, when `token` is old enough; the same claims, a new `iat`, `exp` and `jti`. */
async function renewal(name: string, token: JWT): Promise<RenewedCookie | null> {
  const maxAge = sessionMaxAgeSeconds();
  const issuedAt = typeof token.iat === "number" ? token.iat : 0;
  if (Date.now() / 1000 - issuedAt < sessionRenewAfterSeconds(maxAge)) return null;
  const { iat: _iat, exp: _exp, jti: _jti, ...claims } = token;
  const value = await encode({ token: claims, secret: authSecret(), salt: name, maxAge });
  return { name, value, maxAge, secure: name.startsWith("__Secure-") };
}

/** The Set-Cookie header of a renewed session cookie (the attributes Auth.js gives it). */
export function renewedCookieHeader(cookie: RenewedCookie): string {
  const parts = [`${cookie.name}=${cookie.value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${cookie.maxAge}`];
  if (cookie.secure) parts.push("Secure");
  return parts.join("; ");
}

async function decodeCookie(name: string, value: string): Promise<Decoded> {
  const key = `${name}=${value}`;
  const now = Date.now();
  const hit = decoded.get(key);
  if (hit && hit.until > now) return hit;
  const entry: Decoded = { user: null, token: null, renewed: null, until: now + DECODED_TTL_MS };
  try {
    const token = await decode({ token: value, secret: authSecret(), salt: name });
    if (token?.sub) {
      entry.user = { id: token.sub, name: typeof token.name === "string" ? token.name : "Guest" };
      entry.token = token;
      if (typeof token.exp === "number") entry.until = Math.min(entry.until, token.exp * 1000);
    }
  } catch {
    // a cookie that does not decode (another secret, tampered, expired) is no session
  }
  decoded.delete(key);
  if (decoded.size >= DECODED_MAX) {
    const oldest = decoded.keys().next().value;
    if (oldest !== undefined) decoded.delete(oldest);
  }
  decoded.set(key, entry);
  return entry;
}
