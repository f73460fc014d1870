import "server-only";
import { getRateLimiter } from "../chat/rate-limit";
import { env } from "../env";
import { AppError } from "../errors";

const HOUR_MS = 3_600_000;

/**
 * Counts one guest sign-up from `address` (GUEST_SIGNUPS_PER_HOUR per address, on every guest
 * path); past the limit, 429 with Retry-After and no user is made.
 */
export async function admitGuestSignup(address: string): Promise<void> {
  const decision = await getRateLimiter().hit(`guests:${address}`, env().GUEST_SIGNUPS_PER_HOUR, HOUR_MS);
  if (!decision.allowed) {
    throw new AppError(429, "rate_limited", "Too many guest sign-ins from this address. Please try again later.", {
      headers: { "Retry-After": String(decision.retryAfterSeconds) },
    });
  }
}
