import "server-only";
import { listQuietRunningReplies } from "../db/queries";
import { log } from "../log";
import type { ReplyQueue } from "../queue/contracts";
import type { MemoryChunkStore } from "../streams/memory";
import type { ChunkStore } from "../streams/types";

/** Job look-ups in flight at once (each is one Redis round trip; ioredis pipelines them). */
const PARALLEL = 50;

/**
 * The scheduled reconciliation. Postgres says which replies still run; each one that nothing has
 * touched for `quietMs` and that has no job (its job was lost with a Redis that restarted empty,
 * failed after its worker died too often, or was never added) is queued again, so it runs, in
 * its session's order, and continues from its checkpoint. No reply is ever ended here: a reply
 * that keeps failing ends through its attempts (see generate.ts). `quietMs` 0 checks every
 * running reply (the store just lost its data). Expired chunks are dropped (Redis expires its
 * keys by itself).
 */
export async function requeueOrphanedReplies(deps: { store: ChunkStore; queue: ReplyQueue; quietMs: number }) {
  const quiet = await listQuietRunningReplies({ before: new Date(Date.now() - deps.quietMs) });
  let requeued = 0;
  for (let from = 0; from < quiet.length; from += PARALLEL) {
    const batch = quiet.slice(from, from + PARALLEL);
    const added = await Promise.all(
      batch.map((reply) =>
        deps.queue.requeue({
          messageId: reply.id,
          sessionId: reply.sessionId,
          userId: reply.userId,
          correlationId: reply.correlationId,
        }),
      ),
    );
    for (const [index, wasAdded] of added.entries()) {
      if (!wasAdded) continue;
      requeued++;
      const reply = batch[index];
      log.warn("orphaned reply queued again", { correlationId: reply?.correlationId, messageId: reply?.id });
    }
  }
  if (deps.store.kind === "memory") (deps.store as MemoryChunkStore).sweepExpired();
  return { requeued };
}
