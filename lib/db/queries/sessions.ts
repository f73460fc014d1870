import "server-only";
import { and, desc, eq, inArray, lt, or, sql } from "drizzle-orm";
import { getDb, prepared } from "../client";
import { chatSessions, messages, replyRunning, type SessionRow } from "../schema";

const sessionOfUser = prepared("session_of_user", (db) =>
  db
    .select()
    .from(chatSessions)
    .where(and(eq(chatSessions.id, sql.placeholder("id")), eq(chatSessions.userId, sql.placeholder("userId"))))
    .limit(1),
);

export async function getSessionById({ id, userId }: { id: string; userId: string }): Promise<SessionRow | null> {
  const [session] = await (await sessionOfUser()).execute({ id, userId });
  return session ?? null;
}

export interface SessionPageCursor {
  updatedAt: Date;
  id: string;
}

/** Most recently active first; keyset pagination on (updatedAt, id). */
export async function listSessionsByUser({
  userId,
  limit,
  after,
}: {
  userId: string;
  limit: number;
  after: SessionPageCursor | null;
}) {
  const db = await getDb();
  const page = await db
    .select()
    .from(chatSessions)
    .where(
      and(
        eq(chatSessions.userId, userId),
        after
          ? or(
              lt(chatSessions.updatedAt, after.updatedAt),
              and(eq(chatSessions.updatedAt, after.updatedAt), lt(chatSessions.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(chatSessions.updatedAt), desc(chatSessions.id))
    .limit(limit + 1);
  const sessions = page.slice(0, limit);
  const running = sessions.length
    ? await db
        .select({ sessionId: messages.sessionId, id: messages.id })
        .from(messages)
        .where(
          and(
            inArray(
              messages.sessionId,
              sessions.map((s) => s.id),
            ),
            replyRunning,
          ),
        )
        .orderBy(messages.ord)
    : [];
  const activeBySession = new Map<string, string>();
  for (const row of running) if (!activeBySession.has(row.sessionId)) activeBySession.set(row.sessionId, row.id);
  return { sessions, activeBySession, hasMore: page.length > limit };
}

/**
 * Changes a chat's title, system prompt (null: none) or visible branch. A rename is activity (the
 * sidebar's order); choosing a branch or a prompt is not.
 */
export async function updateSession({
  id,
  userId,
  changes,
}: {
  id: string;
  userId: string;
  changes: { title?: string; systemPrompt?: string | null; activeLeafId?: string };
}) {
  const db = await getDb();
  const [session] = await db
    .update(chatSessions)
    .set({ ...changes, ...(changes.title !== undefined ? { updatedAt: sql`now()` } : {}) })
    .where(and(eq(chatSessions.id, id), eq(chatSessions.userId, userId)))
    .returning();
  return session ?? null;
}

export async function deleteSession({ id, userId }: { id: string; userId: string }): Promise<boolean> {
  const db = await getDb();
  const deleted = await db
    .delete(chatSessions)
    .where(and(eq(chatSessions.id, id), eq(chatSessions.userId, userId)))
    .returning({ id: chatSessions.id });
  return deleted.length > 0;
}

export async function touchSession({ id }: { id: string }): Promise<void> {
  const db = await getDb();
  await db.update(chatSessions).set({ updatedAt: sql`now()` }).where(eq(chatSessions.id, id));
}
