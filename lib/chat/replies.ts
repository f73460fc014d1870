import "server-only";
import { getMessageForUser, listRunningRepliesByUser } from "../db/queries";
import type { MessageRow } from "../db/schema";
import { AppError } from "../errors";
import { getReplyLifecycle } from "../replies/index";
import { getChunkStore } from "../streams/index";

async function replyOf(userId: string, sessionId: string, messageId: string): Promise<MessageRow> {
  const row = await getMessageForUser({ id: messageId, sessionId, userId });
  if (row?.role !== "assistant") throw new AppError(404, "message_not_found", "That reply does not exist.");
  return row;
}

/** GET status: the partial text while it runs (the store's, or its checkpoint), the stored text after. */
export async function getReplyStatus(userId: string, sessionId: string, messageId: string) {
  const row = await replyOf(userId, sessionId, messageId);
  const { text, attempt } = await (await getReplyLifecycle()).readSoFar(row);
  return {
    sessionId,
    messageId,
    status: row.status,
    content: text.content,
    seq: text.seq,
    attempt,
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

/** Stops a reply, keeping its partial text (see the lifecycle's `cancel`). */
export async function cancelReply(userId: string, sessionId: string, messageId: string) {
  const row = await replyOf(userId, sessionId, messageId);
  return (await getReplyLifecycle()).cancel(row);
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
