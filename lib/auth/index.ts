import "server-only";
import { cookies } from "next/headers";
import NextAuth from "next-auth";
import { decode } from "next-auth/jwt";
import Credentials from "next-auth/providers/credentials";
import { createGuestUser } from "../db/queries";
import { env } from "../env";
import { log } from "../log";
import { authSecret } from "./secret";

export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

export function guestName(): string {
  return `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
}

// Auth.js with JWT sessions: a guest provider now; OAuth providers slot in beside it.
// Configured lazily so nothing reads the environment at build time.
export const { handlers, auth } = NextAuth(() => ({
  secret: authSecret(),
  trustHost: true,
  // A forged or expired cookie is an ordinary 401, not an error worth a stack trace.
  logger: {
    error: (error) => log.warn("auth rejected a session", { error: error.name }),
    warn: () => {},
    debug: () => {},
  },
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
  providers: [
    Credentials({
      id: "guest",
      name: "Guest",
      credentials: {},
      // Trusts no input: every guest sign-in creates a new guest user.
      authorize: async () => {
        if (env().AUTH_GUEST === "off") return null;
        const user = await createGuestUser({ name: guestName() });
        return { id: user.id, name: user.name };
      },
    }),
  ],
  callbacks: {
    jwt: ({ token, user }) => {
      if (user?.id) {
        token.sub = user.id;
        token.name = user.name;
        token.guest = true;
      }
      return token;
    },
    session: ({ session, token }) => {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
}));

export interface SignedInUser {
  id: string;
  name: string;
}

const SESSION_COOKIES = ["__Secure-authjs.session-token", "authjs.session-token"];
const DECODED_TTL_MS = 60_000;
const DECODED_MAX = 10_000;
/** Session cookie → its user, for a minute: decrypting the JWE on every API call was most of a request's CPU. */
const decoded = new Map<string, { user: SignedInUser | null; until: number }>();

/**
 * The signed-in user of this request, or null. Reads Auth.js's session cookie the way Auth.js
 * does (same JWE, salt = cookie name) without running its whole session pipeline per request.
 */
export async function currentUser(): Promise<SignedInUser | null> {
  const jar = await cookies();
  for (const name of SESSION_COOKIES) {
    // Auth.js splits a large cookie into name.0, name.1, …
    let value = jar.get(name)?.value;
    if (!value) {
      const parts: string[] = [];
      for (let i = 0; jar.get(`${name}.${i}`); i++) parts.push(jar.get(`${name}.${i}`)?.value ?? "");
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
