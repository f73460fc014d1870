import "server-only";
import { encode } from "next-auth/jwt";
import { createGuestUser } from "../db/queries";
import { guestName } from "./auth-js";
import { admitGuestSignup } from "./guest-limit";
import { authSecret } from "./secret";
import { sessionMaxAgeSeconds } from "./session-cookie";

export interface GuestSession {
  user: { id: string; name: string; guest: true };
  cookie: { name: string; value: string; secure: boolean; maxAge: number };
}

/**
 * Creates a guest user (counted against the sign-ups of `address`, 429 past the limit) and the
 * Auth.js session cookie for it: the same JWT, salt and cookie name
 * that Auth.js itself issues, so Auth.js (and lib/auth/session-cookie.ts) read it like any other session.
 */
export async function createGuestSession({
  secure,
  address,
}: {
  secure: boolean;
  address: string;
}): Promise<GuestSession> {
  await admitGuestSignup(address);
  const user = await createGuestUser({ name: guestName() });
  const maxAge = sessionMaxAgeSeconds();
  const name = `${secure ? "__Secure-" : ""}authjs.session-token`;
  const value = await encode({
    token: { sub: user.id, name: user.name, guest: true },
    secret: authSecret(),
    salt: name,
    maxAge,
  });
  return {
    user: { id: user.id, name: user.name, guest: true },
    cookie: { name, value, secure, maxAge },
  };
}
