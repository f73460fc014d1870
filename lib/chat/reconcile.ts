import "server-only";
import type { MessageRow } from "../db/schema";
import { log } from "../log";
import type { ChunkStore } from "../streams/types";
import { terminalFromRow } from "./reply-tracker";

/** Announces the end Postgres recorded, if the store has not (a lost race, a Redis blip, a crash). */
export async function reconcileEndedReply(reply: MessageRow, store: ChunkStore) {
  const ref = { sessionId: reply.sessionId, messageId: reply.id };
  const state = await store.getState(ref);
  if (!state || state.final) return;
  const final = terminalFromRow(reply, reply.seq);
  if (!final) return;
  const outcome =
    final.type === "done"
      ? { status: "completed" as const, usage: final.usage, latencyMs: final.latencyMs, ttftMs: final.ttftMs }
      : final.type === "error"
        ? { status: "error" as const, code: final.code, message: final.message, retryable: final.retryable }
        : { status: "cancelled" as const };
  await store.finish(ref, null, outcome);
  log.warn("announced an end the store had missed", { correlationId: reply.correlationId, messageId: reply.id });
}
