import "server-only";
import {
  endReply,
  getMessageForUser,
  getNextReplyInSession,
  listRunningRepliesByUser,
  setReplyContent,
} from "../db/queries";
import type { MessageRow } from "../db/schema";
import { AppError } from "../errors";
import { log } from "../log";
import { getReplyQueue } from "../queue/index";
import { getChunkStore } from "../streams/index";
import { reconcileEndedReply } from "./reconcile";

const isRunning = (row: MessageRow) => row.status === "queued" || row.status === "generating";

async function replyOf(userId: string, sessionId: string, messageId: string): Promise<MessageRow> {
  const row = await getMessageForUser({ id: messageId, sessionId, userId });
  if (row?.role !== "assistant") throw new AppError(404, "message_not_found", "That reply does not exist.");
  return row;
}

/** GET status: the partial text while it runs (from the store), the stored text after. */
export async function getReplyStatus(userId: string, sessionId: string, messageId: string) {
  const row = await replyOf(userId, sessionId, messageId);
  const store = await getChunkStore();
  const state = isRunning(row) ? await store.getState({ sessionId, messageId }) : null;
  const chunks = state ? await store.readChunks({ sessionId, messageId }, 0) : [];
  return {
    sessionId,
    messageId,
    status: row.status,
    content: state ? chunks.map((chunk) => chunk.text).join("") : row.content,
    seq: state ? (chunks.at(-1)?.seq ?? 0) : row.seq,
    attempt: state ? state.attempt : row.attempt,
    ...(row.status === "error"
      ? { error: { code: row.errorCode ?? "generation_failed", message: row.errorMessage ?? "" } }
      : {}),
    ...(row.status === "completed"
      ? { usage: { inputTokens: row.inputTokens ?? 0, outputTokens: row.outputTokens ?? 0 } }
      : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Stops a reply: Postgres records the end (whoever ends a reply first wins), the store freezes its
 * text and tells the worker, which aborts the model call. The partial text is kept.
 */
export async function cancelReply(userId: string, sessionId: string, messageId: string) {
  const row = await replyOf(userId, sessionId, messageId);
  const store = await getChunkStore();
  // Already ended: answer its status, and make sure readers heard the end (a retry after a Redis blip).
  if (!isRunning(row)) {
    await reconcileEndedReply(row, store);
    return { status: row.status };
  }
  const ended = await endReply({ id: row.id, attempt: null, outcome: { status: "cancelled" } });
  if (!ended) {
    const now = await replyOf(userId, sessionId, messageId);
    await reconcileEndedReply(now, store);
    return { status: now.status };
  }
  const ref = { sessionId, messageId };
  await store.create({ ...ref, userId, correlationId: row.correlationId });
  await store.finish(ref, null, { status: "cancelled" });
  const chunks = await store.readChunks(ref, 0);
  await setReplyContent({
    id: row.id,
    content: chunks.map((chunk) => chunk.text).join(""),
    seq: chunks.at(-1)?.seq ?? 0,
  });
  log.info("reply cancelled", { correlationId: row.correlationId, messageId });
  const next = await getNextReplyInSession({ sessionId });
  if (next)
    await getReplyQueue()
      .wake(next)
      .catch(() => {});
  return { status: "cancelled" as const };
}

/** Every queued or generating reply of the user, with how far each has come. */
export async function listActiveStreams(userId: string) {
  const store = await getChunkStore();
  const rows = await listRunningRepliesByUser({ userId });
  return Promise.all(
    rows.map(async (row) => {
      const state = await store.getState({ sessionId: row.sessionId, messageId: row.id });
      const started = state && state.status === "generating" && state.startedAt > 0;
      return {
        sessionId: row.sessionId,
        messageId: row.id,
        status: started ? "generating" : "queued",
        attempt: started ? state.attempt : 0,
        seq: started ? state.seq : 0,
        startedAt: started ? new Date(state.startedAt).toISOString() : null,
      };
    }),
  );
}
