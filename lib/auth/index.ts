import "server-only";
import { cookies } from "next/headers";
import { type SignedInUser, userFromCookies } from "./session-cookie";

export { guestName, handlers, SESSION_MAX_AGE_SECONDS } from "./auth-js";
export type { SignedInUser } from "./session-cookie";

/** The signed-in user of this request (App Router), or null. */
export async function currentUser(): Promise<SignedInUser | null> {
  const jar = await cookies();
  return userFromCookies((name) => jar.get(name)?.value);
}
