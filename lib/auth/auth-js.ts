import "server-only";
import NextAuth from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { createGuestUser } from "../db/queries";
import { env } from "../env";
import { log } from "../log";
import { authSecret } from "./secret";

export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

// What a client's own cookie or sign-in attempt brings about: a warning, not the server's error.
const ORDINARY_AUTH_ERRORS = new Set(["JWTSessionError", "CredentialsSignin", "MissingCSRF", "InvalidCheck"]);

export function guestName(): string {
  return `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
}

// Auth.js with JWT sessions (no next/headers here: the pages/api guest callback imports it too): a guest provider now; OAuth providers slot in beside it.
// Configured lazily so nothing reads the environment at build time.
export const { handlers } = NextAuth(() => ({
  secret: authSecret(),
  trustHost: true,
  // Auth.js's errors by their `type` (the class names are minified in a build: "U", "P"), through
  // our logger. A forged or expired cookie is an ordinary 401, not an error worth a stack trace.
  logger: {
    error: (error) => {
      const type = (error as Error & { type?: string }).type ?? error.name;
      const fields = { error: type, message: error.message.slice(0, 300) };
      if (ORDINARY_AUTH_ERRORS.has(type)) log.warn("auth rejected a request", fields);
      else log.error("auth failed", fields);
    },
    warn: (code) => log.warn("auth warning", { code }),
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
