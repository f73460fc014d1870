import "server-only";
import NextAuth from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { createGuestUser, signInAccount } from "../db/queries";
import { env } from "../env";
import { log } from "../log";
import { accountProviders } from "./providers";
import { authSecret } from "./secret";
import { sessionMaxAgeSeconds, userFromCookies } from "./session-cookie";

// What a client's own cookie, request or sign-in attempt brings about: a warning, not the server's
// error. OAuthCallbackError: the provider sent the person back with an error (they declined, say).
// UnknownAction: a path or method Auth.js has no action for. SyntaxError: a body that says it is
// JSON and is not (Auth.js parses the body before anything else, and answers 400).
const ORDINARY_AUTH_ERRORS = new Set([
  "JWTSessionError",
  "CredentialsSignin",
  "MissingCSRF",
  "InvalidCheck",
  "OAuthCallbackError",
  "UnknownAction",
  "SyntaxError",
]);

export function guestName(): string {
  return `Guest ${Math.floor(1000 + Math.random() * 9000)}`;
}

/** The cookies of a request (a NextRequest, or the plain Request the guest callback hands on). */
function cookieReader(request: Request | undefined): (name: string) => string | undefined {
  const jar = new Map<string, string>();
  for (const part of request?.headers.get("cookie")?.split(";") ?? []) {
    const at = part.indexOf("=");
    if (at > 0) jar.set(part.slice(0, at).trim(), decodeURIComponent(part.slice(at + 1).trim()));
  }
  return (name) => jar.get(name);
}

// Auth.js with JWT sessions (no next/headers here: the pages/api guest callback imports it too):
// guests, and the account providers the environment turns on (lib/auth/providers.ts).
// Configured lazily (per request) so nothing reads the environment at build time, and so an
// account's sign-in sees the guest session the browser had: that guest's chats move to the account.
export const { handlers } = NextAuth((request) => ({
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
  // Auth.js renews the cookie at every GET /api/auth/session; our API routes renew it too
  // (lib/auth/session-cookie.ts), so a session in use never runs out.
  session: { strategy: "jwt", maxAge: sessionMaxAgeSeconds() },
  // A failed sign-in lands a browser on a page it can read (app/auth/error/page.tsx), not on the
  // API's JSON: Auth.js redirects its errors, and its own /api/auth/error, there.
  pages: { error: "/auth/error" },
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
    ...accountProviders(env()),
  ],
  callbacks: {
    jwt: async ({ token, user, account }) => {
      if (!user) return token;
      if (!account || account.provider === "guest") {
        if (user.id) {
          token.sub = user.id;
          token.name = user.name;
          token.guest = true;
        }
        return token;
      }
      // An account signs in: its own user (made on its first sign-in), the browser's guest merged in.
      const guest = await userFromCookies(cookieReader(request));
      const signedIn = await signInAccount(
        {
          provider: account.provider,
          providerAccountId: account.providerAccountId,
          name: user.name || user.email || account.provider,
          email: user.email ?? null,
        },
        guest?.id ?? null,
      );
      if (guest && guest.id !== signedIn.id) log.info("guest signed in to an account", { provider: account.provider });
      return { sub: signedIn.id, name: signedIn.name, email: signedIn.email, guest: false };
    },
    session: ({ session, token }) => {
      if (token.sub) session.user.id = token.sub;
      return { ...session, user: { ...session.user, guest: token.guest !== false } };
    },
  },
}));
