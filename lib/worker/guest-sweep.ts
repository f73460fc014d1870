import "server-only";
import { deleteIdleGuests } from "../db/queries";
import { describeError, log } from "../log";

/** Guests deleted per statement: a long backlog goes in several short statements. */
const BATCH = 500;

/**
 * Deletes guests idle for `ttlDays` with their chats, every `intervalMs` (and once soon after the
 * worker starts). Several workers may run it at once: a guest is deleted once, whoever gets it.
 * Returns the stop.
 */
export function startGuestSweep(ttlDays: number, intervalMs: number): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      let total = 0;
      for (;;) {
        const deleted = await deleteIdleGuests({ ttlDays, limit: BATCH });
        total += deleted;
        if (deleted < BATCH) break;
      }
      if (total > 0) log.info("idle guests deleted", { guests: total, ttlDays });
    } catch (error) {
      log.warn("guest sweep failed", { error: describeError(error) });
    } finally {
      running = false;
    }
  };
  // Not in the same instant as the worker's own start-up work, nor as every other worker's.
  const first = setTimeout(() => void sweep(), Math.min(intervalMs, 5_000) * Math.random());
  const every = setInterval(() => void sweep(), intervalMs);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
