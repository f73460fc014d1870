import "server-only";
import { and, asc, eq, gte, isNull, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Database, firstRow, getDb, prepared } from "../client";
import { chatSessions, type MessageRow, messages, replyRunning, users } from "../schema";

export interface TurnIds {
  sessionId: string;
  userMessageId: string;
  assistantMessageId: string;
  correlationId: string;
}

const replies = alias(messages, "replies");

// The turn a clientMessageId made: a send stores it on its user message (the turn's reply is that
// message's first reply), a regenerate on the reply it added. Written out: one statement either way.
const turnByClientMessageId = prepared("turn_by_client_message_id", (db) =>
  db
    .select({
      sessionId: messages.sessionId,
      userMessageId: sql<string>`case when ${messages.role} = 'user' then ${messages.id} else ${messages.inReplyTo} end`,
      assistantMessageId: replies.id,
      correlationId: replies.correlationId,
      replyStatus: replies.status,
    })
    .from(messages)
    .innerJoin(
      replies,
      or(
        and(eq(messages.role, "user"), eq(replies.inReplyTo, messages.id)),
        and(eq(messages.role, "assistant"), eq(replies.id, messages.id)),
      ),
    )
    .where(
      and(
        eq(messages.userId, sql.placeholder("userId")),
        eq(messages.clientMessageId, sql.placeholder("clientMessageId")),
      ),
    )
    .orderBy(asc(replies.ord))
    .limit(1),
);

/** The turn a user already sent (or regenerated) with this clientMessageId, if any: both are idempotent per user. */
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

/** The user's running replies reached the cap: the turn was not stored. */
export class RunningCapReached extends Error {
  constructor() {
    super("the user's running replies are at the cap");
  }
}

/** The user of a still valid session cookie is gone (an idle guest, deleted): nothing was stored. */
export class UserGone extends Error {
  constructor() {
    super("the user no longer exists");
  }
}

/**
 * Runs `insert` (a statement that adds a reply) only while the user has fewer than `runningCap`
 * running replies, atomically: the user's row is locked first, so the sends of one user are stored
 * one at a time, and the count (a statement of its own, so its snapshot is taken after the lock)
 * sees every reply an earlier send added. A count read before the insert let 25 sends at once
 * start 16 replies against a cap of 10. Throws RunningCapReached when the cap is reached, and
 * UserGone when the user was deleted.
 */
async function underRunningCap<Row>(userId: string, runningCap: number, insert: SQL): Promise<Row | undefined> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const t = tx as unknown as Database;
    const user = await firstRow(sql`select 1 from ${users} where ${users.id} = ${userId} for update`, t);
    if (!user) throw new UserGone();
    const running = await firstRow<{ n: number }>(
      sql`select count(*)::int as n from ${messages} where ${messages.userId} = ${userId} and ${messages.role} = 'assistant' and ${replyRunning}`,
      t,
    );
    if ((running?.n ?? 0) >= runningCap) throw new RunningCapReached();
    return firstRow<Row>(insert, t);
  });
}

function isUniqueViolation(error: unknown): boolean {
  // drizzle wraps the driver's error: the Postgres code may sit on it or on its cause.
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}

/**
 * Stores a user message and its queued reply in one statement (creating the session when none is
 * given). The message's parent is `parentId` (an edit: beside an existing message; null: a new
 * root), or else the end of the session's visible branch; the new reply becomes that end. Null
 * when the same clientMessageId raced in first: the caller reads that turn instead.
 */
export async function createTurn(input: {
  userId: string;
  sessionId: string | null;
  title: string;
  content: string;
  clientMessageId: string;
  correlationId: string;
  /** undefined: after the visible branch's last message. */
  parentId?: string | null;
  model?: string | null;
  /** The most running replies the user may have; this one is refused (RunningCapReached) at it. */
  runningCap: number;
  /** A new chat's system prompt (ignored when sending into a chat that exists). */
  systemPrompt?: string | null;
}): Promise<TurnIds | null> {
  const { userId, title, content, clientMessageId, correlationId } = input;
  const sessionId = input.sessionId;
  const explicitParent = input.parentId !== undefined;
  const parentId = input.parentId ?? null;
  const model = input.model ?? null;
  // One statement (so one round trip and one commit, atomic by itself): the session (made, or
  // touched and its visible branch moved to the new reply), the user's message, then the reply,
  // which reads the message's row, so their `ord` values come in that order. The reply's id is
  // drawn first so the session can name it in the same statement.
  const query = sql`
    with ids as (
      select gen_random_uuid() as reply_id
    ), made as (
      insert into ${chatSessions} (user_id, title, active_leaf_id, system_prompt)
      select ${userId}, ${title}, ids.reply_id, ${input.systemPrompt ?? null}::text from ids where ${sessionId}::uuid is null
      returning id, null::uuid as leaf
    ), locked as (
      -- FOR UPDATE waits for a send into the same chat that is being stored and then reads the
      -- leaf it left: sends made at once chain one after the other instead of becoming siblings.
      select id, active_leaf_id as leaf from ${chatSessions} where id = ${sessionId}::uuid for update
    ), touched as (
      update ${chatSessions} s set updated_at = now(), active_leaf_id = ids.reply_id
      from ids, locked
      where s.id = locked.id
      returning s.id, locked.leaf
    ), session as (
      select id, leaf from made union all select id, leaf from touched
    ), asked as (
      insert into ${messages} (session_id, user_id, correlation_id, role, content, status, client_message_id, parent_id)
      select id, ${userId}, ${correlationId}, 'user', ${content}, 'completed', ${clientMessageId},
        case when ${explicitParent} then ${parentId}::uuid else leaf end
      from session
      returning id, session_id
    ), reply as (
      insert into ${messages} (id, session_id, user_id, correlation_id, role, status, in_reply_to, parent_id, model)
      select ids.reply_id, session_id, ${userId}, ${correlationId}, 'assistant', 'queued', asked.id, asked.id, ${model}
      from asked, ids
      returning id
    )
    select asked.session_id as "sessionId", asked.id as "userMessageId", reply.id as "assistantMessageId"
    from asked, reply`;
  try {
    const row = await underRunningCap<TurnRow>(userId, input.runningCap, query);
    if (!row) throw new Error(sessionId ? "the session to send into is gone" : "insert returned no turn");
    return { ...row, correlationId };
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/**
 * Adds a new reply to a user message, beside its earlier ones (a regenerate), and makes it the end
 * of the visible branch, in one statement. Null when `userMessageId` is not a user message of that
 * session of the user; throws a unique violation's null like createTurn when the clientMessageId
 * raced in first (then null too: the caller reads that turn).
 */
export async function createRegeneration(input: {
  userId: string;
  sessionId: string;
  userMessageId: string;
  clientMessageId: string;
  correlationId: string;
  model?: string | null;
  runningCap: number;
}): Promise<TurnIds | null> {
  const { userId, sessionId, userMessageId, clientMessageId, correlationId } = input;
  const query = sql`
    with asked as (
      select m.id, m.session_id from ${messages} m
      join ${chatSessions} s on s.id = m.session_id and s.user_id = ${userId}
      where m.id = ${userMessageId} and m.session_id = ${sessionId} and m.role = 'user'
    ), reply as (
      insert into ${messages} (session_id, user_id, correlation_id, role, status, in_reply_to, parent_id, client_message_id, model)
      select session_id, ${userId}, ${correlationId}, 'assistant', 'queued', id, id, ${clientMessageId}, ${input.model ?? null}
      from asked
      returning id, session_id
    ), touched as (
      update ${chatSessions} s set updated_at = now(), active_leaf_id = reply.id from reply where s.id = reply.session_id
    )
    select reply.session_id as "sessionId", ${userMessageId}::uuid as "userMessageId", reply.id as "assistantMessageId"
    from reply`;
  try {
    const row = await underRunningCap<TurnRow>(userId, input.runningCap, query);
    return row ? { ...row, correlationId } : null;
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** Whether `messageId` is a message of the session (a parent or a visible branch's end must be). */
export async function isMessageOfSession({ messageId, sessionId }: { messageId: string; sessionId: string }) {
  const db = await getDb();
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.id, messageId), eq(messages.sessionId, sessionId)))
    .limit(1);
  return row !== undefined;
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

/** A reply a stream follows, without its text. */
export type ReplyRef = Pick<MessageRow, "id" | "sessionId" | "correlationId" | "ord">;

// The cursor's reply, null when it is not one of this session. Written out with its own alias.
const cursorOrd = sql`(
  select cursor.ord from ${messages} cursor
  where cursor.id = ${sql.placeholder("fromMessageId")}::uuid
    and cursor.session_id = ${sql.placeholder("sessionId")}::uuid and cursor.role = 'assistant'
)`;

const sessionStreamReplies = prepared("session_stream_replies", (db) =>
  db
    .select({
      found: chatSessions.id,
      // Ids only: the text of each reply is read when it is sent, one at a time (a stream may
      // name hundreds of long replies).
      reply: {
        id: messages.id,
        sessionId: messages.sessionId,
        correlationId: messages.correlationId,
        ord: messages.ord,
      },
    })
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
    .orderBy(asc(messages.ord)),
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
}): Promise<{ sessionFound: boolean; replies: ReplyRef[] }> {
  const rows = await (await sessionStreamReplies()).execute({ sessionId, userId, fromMessageId });
  return {
    sessionFound: rows.length > 0,
    replies: rows.flatMap((row) => (row.reply?.id ? [row.reply as ReplyRef] : [])),
  };
}
