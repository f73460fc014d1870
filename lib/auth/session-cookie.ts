import "server-only";
import { decode } from "next-auth/jwt";
import { authSecret } from "./secret";

// Reads Auth.js's session cookie the way Auth.js does (same JWE, salt = the cookie name) without
// running its whole session pipeline per request, and without next/headers, so the Node SSE
// routes (pages/api) can use it as well as the App Router's.

export interface SignedInUser {
  id: string;
  name: string;
}

const SESSION_COOKIES = ["__Secure-authjs.session-token", "authjs.session-token"];
const DECODED_TTL_MS = 60_000;
const DECODED_MAX = 10_000;
/** Session cookie → its user, for a minute: decrypting the JWE on every API call was most of a request's CPU. */
const decoded = new Map<string, { user: SignedInUser | null; until: number }>();

/** The signed-in user whose session cookie `cookie(name)` returns, or null. */
export async function userFromCookies(cookie: (name: string) => string | undefined): Promise<SignedInUser | null> {
  for (const name of SESSION_COOKIES) {
    // Auth.js splits a large cookie into name.0, name.1, …
    let value = cookie(name);
    if (!value) {
      const parts: string[] = [];
      for (let i = 0; cookie(`${name}.${i}`); i++) parts.push(cookie(`${name}.${i}`) ?? "");
      value = parts.join("");
    }
    if (value) return userOfToken(name, value);
  }
  return null;
}

async function userOfToken(name: string, value: string): Promise<SignedInUser | null> {
  const key = `${name}=${value}`;
  const now = Date.now();
  const hit = decoded.get(key);
  if (hit && hit.until > now) return hit.user;
  let user: SignedInUser | null = null;
  let until = now + DECODED_TTL_MS;
  try {
    const token = await decode({ token: value, secret: authSecret(), salt: name });
    if (token?.sub) {
      user = { id: token.sub, name: typeof token.name === "string" ? token.name : "Guest" };
      if (typeof token.exp === "number") until = Math.min(until, token.exp * 1000);
    }
  } catch {
    user = null; // a cookie that does not decode (another secret, tampered, expired) is no session
  }
  decoded.delete(key);
  if (decoded.size >= DECODED_MAX) {
    const oldest = decoded.keys().next().value;
    if (oldest !== undefined) decoded.delete(oldest);
  }
  decoded.set(key, { user, until });
  return user;
}
