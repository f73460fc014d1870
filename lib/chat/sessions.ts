import "server-only";
import { z } from "zod";
import { MAX_SYSTEM_PROMPT_CHARS } from "../contract";
import {
  deleteSession,
  getSessionById,
  isMessageOfSession,
  listMessagesBySession,
  listRunningRepliesByUser,
  listSessionsByUser,
  type SessionPageCursor,
  updateSession,
} from "../db/queries";
import type { SessionRow } from "../db/schema";
import { AppError } from "../errors";
import { getReplyLifecycle } from "../replies/index";
import { getChunkStore } from "../streams/index";
import { cancelReply } from "./replies";

export const listSessionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(30),
  cursor: z.string().max(200).optional(),
});

const noNul = (text: string) => !text.includes("\u0000");

/** A chat's system prompt as a request names it: every reply of the chat receives it. */
export const systemPromptSchema = z
  .string()
  .refine(
    (prompt) => [...prompt].length <= MAX_SYSTEM_PROMPT_CHARS,
    `must be at most ${MAX_SYSTEM_PROMPT_CHARS} characters`,
  )
  .refine(noNul, "must not contain a NUL character");

export const updateSessionSchema = z
  .object({
    title: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .refine((title) => [...title].length <= 200, "must be at most 200 characters")
      .refine(noNul, "must not contain a NUL character")
      .optional(),
    /** "" or null removes it. */
    systemPrompt: systemPromptSchema.nullable().optional(),
    /** The message that ends the visible branch: a message of this chat. */
    activeLeafId: z.uuid().optional(),
  })
  .refine((body) => body.title !== undefined || body.systemPrompt !== undefined || body.activeLeafId !== undefined, {
    message: "name a title, a systemPrompt or an activeLeafId",
  });
export type UpdateSessionInput = z.infer<typeof updateSessionSchema>;

function encodePageCursor(cursor: SessionPageCursor): string {
  return Buffer.from(`${cursor.updatedAt.toISOString()}|${cursor.id}`).toString("base64url");
}

// The years a cursor may name: the server makes none outside them, and Postgres refuses some
// dates JavaScript accepts (year 0, years past 294276, which would be a 500).
const CURSOR_FIRST_MS = Date.UTC(1970, 0, 1);
const CURSOR_END_MS = Date.UTC(10000, 0, 1);

function decodePageCursor(raw: string): SessionPageCursor {
  const [iso, id, ...rest] = Buffer.from(raw, "base64url").toString("utf8").split("|");
  const updatedAt = new Date(iso ?? "");
  const time = updatedAt.getTime();
  if (rest.length > 0 || !id || !z.uuid().safeParse(id).success || !(time >= CURSOR_FIRST_MS && time < CURSOR_END_MS)) {
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
      ...(session.systemPrompt ? { systemPrompt: session.systemPrompt } : {}),
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

/**
 * Every message of every branch, parents before children; a reply being written shows the text it
 * has so far (the store's, or its checkpoint). `activeLeafId` ends the visible branch.
 */
export async function listSessionMessages(userId: string, sessionId: string) {
  const session = await requireSession(userId, sessionId);
  const rows = await listMessagesBySession({ sessionId });
  const lifecycle = await getReplyLifecycle();
  const list = await Promise.all(
    rows.map(async (row) => {
      const { content } = row.role === "assistant" ? await lifecycle.textSoFar(row) : row;
      return {
        id: row.id,
        parentId: row.parentId,
        role: row.role,
        content,
        status: row.status,
        ...(row.model ? { model: row.model } : {}),
        createdAt: row.createdAt.toISOString(),
        correlationId: row.correlationId,
      };
    }),
  );
  return { messages: list, activeLeafId: session.activeLeafId ?? rows.at(-1)?.id ?? null };
}

function sessionBody(session: SessionRow) {
  return {
    id: session.id,
    title: session.title,
    systemPrompt: session.systemPrompt,
    activeLeafId: session.activeLeafId,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
  };
}

/** PATCH: a new title, system prompt ("" or null: none) or visible branch. */
export async function updateUserSession(userId: string, sessionId: string, input: UpdateSessionInput) {
  await requireSession(userId, sessionId);
  if (input.activeLeafId && !(await isMessageOfSession({ messageId: input.activeLeafId, sessionId }))) {
    throw new AppError(400, "invalid_request", "That message is not in this chat.", {
      fields: { activeLeafId: "is not a message of this chat" },
    });
  }
  const systemPrompt = input.systemPrompt === undefined ? {} : { systemPrompt: input.systemPrompt?.trim() || null };
  const session = await updateSession({
    id: sessionId,
    userId,
    changes: {
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...systemPrompt,
      ...(input.activeLeafId !== undefined ? { activeLeafId: input.activeLeafId } : {}),
    },
  });
  if (!session) throw sessionNotFound();
  return sessionBody(session);
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
