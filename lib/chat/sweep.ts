import "server-only";
import { endReply, getNextReplyInSession, listQuietRunningReplies } from "../db/queries";
import { log } from "../log";
import type { ReplyQueue } from "../queue/contracts";
import type { MemoryChunkStore } from "../streams/memory";
import type { ChunkStore } from "../streams/types";

const LOST = {
  code: "worker_lost",
  message: "The reply was interrupted before it finished. Please send it again.",
  retryable: true,
};

/**
 * The scheduled clean-up. A reply still queued or generating that nothing touched for
 * `stuckAfterMs`, and that no job anywhere will pick up again, ends as an error, so no reply stays
 * "generating" forever. Expired chunks are dropped (Redis expires its keys by itself).
 */
export async function sweepStuckReplies(deps: { store: ChunkStore; queue: ReplyQueue; stuckAfterMs: number }) {
  const quiet = await listQuietRunningReplies({ before: new Date(Date.now() - deps.stuckAfterMs) });
  let ended = 0;
  for (const reply of quiet) {
    if (await deps.queue.isAlive(reply.id)) continue;
    const row = await endReply({
      id: reply.id,
      attempt: null,
      outcome: { status: "error", content: "", errorCode: LOST.code, errorMessage: LOST.message },
    });
    if (!row) continue;
    ended++;
    await deps.store.create({
      sessionId: reply.sessionId,
      messageId: reply.id,
      userId: reply.userId,
      correlationId: reply.correlationId,
    });
    await deps.store.finish({ sessionId: reply.sessionId, messageId: reply.id }, null, { status: "error", ...LOST });
    log.warn("stuck reply ended", { correlationId: reply.correlationId, messageId: reply.id });
    const next = await getNextReplyInSession({ sessionId: reply.sessionId });
    if (next) await deps.queue.wake(next).catch(() => {});
  }
  if (deps.store.kind === "memory") (deps.store as MemoryChunkStore).sweepExpired();
  return { ended };
}
