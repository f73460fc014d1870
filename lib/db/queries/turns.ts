import "server-only";
import { and, asc, eq, gte, inArray, lt, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { getDb } from "../client";
import { chatSessions, type MessageRow, messages } from "../schema";

export interface TurnIds {
  sessionId: string;
  userMessageId: string;
  assistantMessageId: string;
  correlationId: string;
}

const replies = alias(messages, "replies");

/** The turn a user already sent with this clientMessageId, if any (sends are idempotent per user). */
export async function getTurnByClientMessageId({
  userId,
  clientMessageId,
}: {
  userId: string;
  clientMessageId: string;
}): Promise<(TurnIds & { replyStatus: MessageRow["status"] }) | null> {
  const db = await getDb();
  const [row] = await db
    .select({
      sessionId: messages.sessionId,
      userMessageId: messages.id,
      assistantMessageId: replies.id,
      correlationId: replies.correlationId,
      replyStatus: replies.status,
    })
    .from(messages)
    .innerJoin(replies, eq(replies.inReplyTo, messages.id))
    .where(and(eq(messages.userId, userId), eq(messages.clientMessageId, clientMessageId)))
    .limit(1);
  return row ?? null;
}

function isUniqueViolation(error: unknown): boolean {
  // drizzle wraps the driver's error: the Postgres code may sit on it or on its cause.
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}

/**
 * Stores a user message and its queued reply in one transaction (creating the session when none is
 * given). Null when the same clientMessageId raced in first: the caller reads that turn instead.
 */
export async function createTurn(input: {
  userId: string;
  sessionId: string | null;
  title: string;
  content: string;
  clientMessageId: string;
  correlationId: string;
}): Promise<TurnIds | null> {
  const db = await getDb();
  try {
    return await db.transaction(async (tx) => {
      let sessionId = input.sessionId;
      if (sessionId) {
        await tx.update(chatSessions).set({ updatedAt: sql`now()` }).where(eq(chatSessions.id, sessionId));
      } else {
        const [session] = await tx
          .insert(chatSessions)
          .values({ userId: input.userId, title: input.title })
          .returning({ id: chatSessions.id });
        if (!session) throw new Error("insert returned no session");
        sessionId = session.id;
      }
      const common = { sessionId, userId: input.userId, correlationId: input.correlationId };
      const [userMessage] = await tx
        .insert(messages)
        .values({
          ...common,
          role: "user",
          content: input.content,
          status: "completed",
          clientMessageId: input.clientMessageId,
        })
        .returning({ id: messages.id });
      if (!userMessage) throw new Error("insert returned no message");
      const [reply] = await tx
        .insert(messages)
        .values({ ...common, role: "assistant", status: "queued", inReplyTo: userMessage.id })
        .returning({ id: messages.id });
      if (!reply) throw new Error("insert returned no reply");
      return {
        sessionId,
        userMessageId: userMessage.id,
        assistantMessageId: reply.id,
        correlationId: input.correlationId,
      };
    });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

export async function listMessagesBySession({ sessionId }: { sessionId: string }): Promise<MessageRow[]> {
  const db = await getDb();
  return db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.ord));
}

/** What the model sees for a reply: every earlier user turn and every earlier reply that has text. */
export async function listTurnsBeforeReply({ sessionId, ord }: { sessionId: string; ord: number }) {
  const db = await getDb();
  return db
    .select({ role: messages.role, content: messages.content })
    .from(messages)
    .where(
      and(
        eq(messages.sessionId, sessionId),
        lt(messages.ord, ord),
        or(eq(messages.role, "user"), inArray(messages.status, ["completed", "cancelled"])),
      ),
    )
    .orderBy(asc(messages.ord));
}

/**
 * The replies of a session from the user's reply `messageId` on, in order: the rest of a resumed
 * reply and every later one, in one query. Empty when that reply is not the user's in this session.
 */
export async function listRepliesInSessionFromReply({
  sessionId,
  userId,
  messageId,
}: {
  sessionId: string;
  userId: string;
  messageId: string;
}) {
  const db = await getDb();
  const from = db
    .select({ ord: messages.ord })
    .from(messages)
    .where(
      and(
        eq(messages.id, messageId),
        eq(messages.sessionId, sessionId),
        eq(messages.userId, userId),
        eq(messages.role, "assistant"),
      ),
    );
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.role, "assistant"), gte(messages.ord, sql`(${from})`)))
    .orderBy(asc(messages.ord));
}
