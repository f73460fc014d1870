import "server-only";
import { cookies } from "next/headers";
import { type RequestSession, type SignedInUser, sessionFromCookies, userFromCookies } from "./session-cookie";

export { guestName, handlers } from "./auth-js";
export type { RequestSession, SignedInUser } from "./session-cookie";
export { renewedCookieHeader, sessionMaxAgeSeconds } from "./session-cookie";

/** The signed-in user of this request (App Router), or null. */
export async function currentUser(): Promise<SignedInUser | null> {
  const jar = await cookies();
  return userFromCookies((name) => jar.get(name)?.value);
}

/** The session of this request (App Router), with its cookie renewed when it is due; or null. */
export async function currentSession(): Promise<RequestSession | null> {
  const jar = await cookies();
  return sessionFromCookies((name) => jar.get(name)?.value);
}
