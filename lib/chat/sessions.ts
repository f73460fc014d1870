import "server-only";
import { z } from "zod";
import {
  deleteSession,
  getSessionById,
  listMessagesBySession,
  listRunningRepliesByUser,
  listSessionsByUser,
  renameSession,
  type SessionPageCursor,
} from "../db/queries";
import { AppError } from "../errors";
import { getReplyLifecycle } from "../replies/index";
import { getChunkStore } from "../streams/index";
import { cancelReply } from "./replies";

export const listSessionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(30),
  cursor: z.string().max(200).optional(),
});

export const renameSessionSchema = z.object({
  title: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .refine((title) => [...title].length <= 200, "must be at most 200 characters"),
});

function encodePageCursor(cursor: SessionPageCursor): string {
  return Buffer.from(`${cursor.updatedAt.toISOString()}|${cursor.id}`).toString("base64url");
}

function decodePageCursor(raw: string): SessionPageCursor {
  const [iso, id] = Buffer.from(raw, "base64url").toString("utf8").split("|");
  const updatedAt = new Date(iso ?? "");
  if (!id || !z.uuid().safeParse(id).success || Number.isNaN(updatedAt.getTime())) {
    throw new AppError(400, "invalid_request", "The page cursor is not valid.", {
      fields: { cursor: "is not a cursor from this API" },
    });
  }
  return { updatedAt, id };
}

export async function listSessions(userId: string, query: z.infer<typeof listSessionsQuerySchema>) {
  const after = query.cursor ? decodePageCursor(query.cursor) : null;
  const page = await listSessionsByUser({ userId, limit: query.limit, after });
  const last = page.sessions.at(-1);
  return {
    sessions: page.sessions.map((session) => ({
      id: session.id,
      title: session.title,
      createdAt: session.createdAt.toISOString(),
      updatedAt: session.updatedAt.toISOString(),
      ...(page.activeBySession.has(session.id) ? { activeMessageId: page.activeBySession.get(session.id) } : {}),
    })),
    nextCursor: page.hasMore && last ? encodePageCursor(last) : null,
  };
}

/** The contract's 404 for a session that does not exist or is not the user's. */
export function sessionNotFound(): AppError {
  return new AppError(404, "session_not_found", "That chat does not exist.");
}

export async function requireSession(userId: string, sessionId: string) {
  const session = await getSessionById({ id: sessionId, userId });
  if (!session) throw sessionNotFound();
  return session;
}

/** Messages in order; a reply being written shows the text it has so far (the store's, or its checkpoint). */
export async function listSessionMessages(userId: string, sessionId: string) {
  await requireSession(userId, sessionId);
  const rows = await listMessagesBySession({ sessionId });
  const lifecycle = await getReplyLifecycle();
  return Promise.all(
    rows.map(async (row) => {
      const { content } = row.role === "assistant" ? await lifecycle.textSoFar(row) : row;
      return {
        id: row.id,
        role: row.role,
        content,
        status: row.status,
        createdAt: row.createdAt.toISOString(),
        correlationId: row.correlationId,
      };
    }),
  );
}

export async function renameUserSession(userId: string, sessionId: string, title: string) {
  const session = await renameSession({ id: sessionId, userId, title });
  if (!session) throw sessionNotFound();
  return {
    id: session.id,
    title: session.title,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
  };
}

/** Deletes a chat: its running replies are stopped first, then everything of it goes. */
export async function deleteUserSession(userId: string, sessionId: string) {
  await requireSession(userId, sessionId);
  const running = await listRunningRepliesByUser({ userId, sessionId });
  for (const reply of running) await cancelReply(userId, sessionId, reply.id);
  const rows = await listMessagesBySession({ sessionId });
  if (!(await deleteSession({ id: sessionId, userId }))) throw sessionNotFound();
  const store = await getChunkStore();
  await Promise.all(
    rows.filter((row) => row.role === "assistant").map((row) => store.remove({ sessionId, messageId: row.id })),
  );
}
