import "server-only";
import { and, asc, eq, gte, isNull, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { firstRow, getDb, prepared } from "../client";
import { chatSessions, type MessageRow, messages, replyRunning } from "../schema";

export interface TurnIds {
  sessionId: string;
  userMessageId: string;
  assistantMessageId: string;
  correlationId: string;
}

const replies = alias(messages, "replies");

const turnByClientMessageId = prepared((db) =>
  db
    .select({
      sessionId: messages.sessionId,
      userMessageId: messages.id,
      assistantMessageId: replies.id,
      correlationId: replies.correlationId,
      replyStatus: replies.status,
    })
    .from(messages)
    .innerJoin(replies, eq(replies.inReplyTo, messages.id))
    .where(
      and(
        eq(messages.userId, sql.placeholder("userId")),
        eq(messages.clientMessageId, sql.placeholder("clientMessageId")),
      ),
    )
    .limit(1)
    .prepare("turn_by_client_message_id"),
);

/** The turn a user already sent with this clientMessageId, if any (sends are idempotent per user). */
export async function getTurnByClientMessageId({
  userId,
  clientMessageId,
}: {
  userId: string;
  clientMessageId: string;
}): Promise<(TurnIds & { replyStatus: MessageRow["status"] }) | null> {
  const [row] = await (await turnByClientMessageId()).execute({ userId, clientMessageId });
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
  const { userId, title, content, clientMessageId, correlationId } = input;
  const sessionId = input.sessionId;
  // One statement (so one round trip and one commit, atomic by itself): the session (made, or
  // touched), the user's message, then the reply, which reads the message's row, so their `ord`
  // values come in that order.
  const query = sql`
    with made as (
      insert into ${chatSessions} (user_id, title)
      select ${userId}, ${title} where ${sessionId}::uuid is null
      returning id
    ), touched as (
      update ${chatSessions} set updated_at = now() where id = ${sessionId}::uuid returning id
    ), session as (
      select id from made union all select id from touched
    ), asked as (
      insert into ${messages} (session_id, user_id, correlation_id, role, content, status, client_message_id)
      select id, ${userId}, ${correlationId}, 'user', ${content}, 'completed', ${clientMessageId} from session
      returning id, session_id
    ), reply as (
      insert into ${messages} (session_id, user_id, correlation_id, role, status, in_reply_to)
      select session_id, ${userId}, ${correlationId}, 'assistant', 'queued', id from asked
      returning id
    )
    select asked.session_id as "sessionId", asked.id as "userMessageId", reply.id as "assistantMessageId"
    from asked, reply`;
  try {
    const row = await firstRow<TurnRow>(query);
    if (!row) throw new Error(sessionId ? "the session to send into is gone" : "insert returned no turn");
    return { ...row, correlationId };
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

interface TurnRow {
  sessionId: string;
  userMessageId: string;
  assistantMessageId: string;
}

export async function listMessagesBySession({ sessionId }: { sessionId: string }): Promise<MessageRow[]> {
  const db = await getDb();
  return db.select().from(messages).where(eq(messages.sessionId, sessionId)).orderBy(asc(messages.ord));
}

// The cursor's reply, null when it is not one of this session. Written out with its own alias.
const cursorOrd = sql`(
  select cursor.ord from ${messages} cursor
  where cursor.id = ${sql.placeholder("fromMessageId")}::uuid
    and cursor.session_id = ${sql.placeholder("sessionId")}::uuid and cursor.role = 'assistant'
)`;

const sessionStreamReplies = prepared((db) =>
  db
    .select({ found: chatSessions.id, reply: messages })
    .from(chatSessions)
    .leftJoin(
      messages,
      and(
        eq(messages.sessionId, chatSessions.id),
        eq(messages.role, "assistant"),
        or(gte(messages.ord, cursorOrd), and(isNull(cursorOrd), replyRunning)),
      ),
    )
    .where(and(eq(chatSessions.id, sql.placeholder("sessionId")), eq(chatSessions.userId, sql.placeholder("userId"))))
    .orderBy(asc(messages.ord))
    .prepare("session_stream_replies"),
);

/**
 * What a one-session stream sends, in one query: whether the session is the user's, and its
 * replies in order. From the user's reply `messageId` (a cursor) on, that reply and every later
 * one; with no cursor, or one that is not a reply of this session, the running replies.
 */
export async function listSessionStreamReplies({
  sessionId,
  userId,
  fromMessageId,
}: {
  sessionId: string;
  userId: string;
  fromMessageId: string | null;
}): Promise<{ sessionFound: boolean; replies: MessageRow[] }> {
  const rows = await (await sessionStreamReplies()).execute({ sessionId, userId, fromMessageId });
  return {
    sessionFound: rows.length > 0,
    replies: rows.flatMap((row) => (row.reply ? [row.reply] : [])),
  };
}
