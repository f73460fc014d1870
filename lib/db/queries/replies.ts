import "server-only";
import { and, asc, count, eq, inArray, lt, sql } from "drizzle-orm";
import { RUNNING_SQL_LIST } from "../../replies/status";
import { firstRow, getDb, prepared } from "../client";
import { chatSessions, type MessageRole, type MessageRow, type MessageStatus, messages, replyRunning } from "../schema";

export async function getReplyById({ id }: { id: string }): Promise<MessageRow | null> {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.role, "assistant")))
    .limit(1);
  return row ?? null;
}

export async function getMessageForUser({ id, sessionId, userId }: { id: string; sessionId: string; userId: string }) {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.sessionId, sessionId), eq(messages.userId, userId)))
    .limit(1);
  return row ?? null;
}

const runningRepliesOfUser = prepared("running_replies_of_user", (db) =>
  db
    .select({ n: count() })
    .from(messages)
    .where(and(eq(messages.userId, sql.placeholder("userId")), eq(messages.role, "assistant"), replyRunning)),
);

export async function countRunningRepliesByUser({ userId }: { userId: string }): Promise<number> {
  const [row] = await (await runningRepliesOfUser()).execute({ userId });
  return Number(row?.n ?? 0);
}

export async function listRunningRepliesByUser({ userId, sessionId }: { userId: string; sessionId?: string }) {
  const db = await getDb();
  return db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.userId, userId),
        eq(messages.role, "assistant"),
        replyRunning,
        sessionId ? eq(messages.sessionId, sessionId) : undefined,
      ),
    )
    .orderBy(asc(messages.ord));
}

/** A reply as a worker claims it (see `claimReply`). */
export interface ClaimedReply {
  id: string;
  sessionId: string;
  userId: string;
  correlationId: string;
  /** As it was before the claim (a claimed reply is `generating` now). */
  status: MessageStatus;
  createdAt: Date;
  /** The reply its session must run first: replies of a session run one at a time, in send order. */
  firstInSession: string | null;
  /** The attempt this claim started; null when it started none (the reply ended, or it is not its turn). */
  attempt: number | null;
  /**
   * With an attempt: the path from the chat's root to the reply's user message (its branch), the
   * user turns and the replies on it that have text, oldest first.
   */
  turns: Array<{ role: MessageRole; content: string }> | null;
  /** The chat's system prompt, if it has one. */
  systemPrompt: string | null;
  /** The model the reply was asked of (null: the deployment's default). */
  model: string | null;
  /** The reply's checkpoint: its text so far as the database kept it, chunk by chunk. */
  checkpoint: string[];
}

interface ClaimRow extends Omit<ClaimedReply, "createdAt" | "checkpoint"> {
  createdAtMs: number;
  content: string;
  chunkLengths: number[] | null;
}

/** A checkpoint's text cut back into its chunks (lengths in UTF-16 code units, as JS counts). */
export function checkpointChunks(content: string, lengths: readonly number[] | null): string[] {
  if (!lengths || lengths.length === 0) return [];
  const chunks: string[] = [];
  let at = 0;
  for (const length of lengths) {
    chunks.push(content.slice(at, at + length));
    at += length;
  }
  // A checkpoint whose lengths do not add up to its text is not trusted: the reply restarts.
  return at === content.length ? chunks : [];
}

/**
 * What a worker does before the model runs, in one statement (one round trip): reads the reply and
 * the reply its session must run first, moves the reply to its next attempt when it runs and it is
 * its turn, and then reads the turns before it (fixed now: every earlier reply has ended). Null when
 * there is no such reply. Written out in SQL: in a select's fields drizzle leaves column names
 * unqualified, and the claim is a data-modifying CTE.
 */
export async function claimReply({ id }: { id: string }): Promise<ClaimedReply | null> {
  const row = await firstRow<ClaimRow>(sql`
    with recursive target as (
      select m.id, m.session_id, m.user_id, m.correlation_id, m.status, m.ord, m.created_at,
        m.content, m.chunk_lengths, m.parent_id, m.model, (
        select s.system_prompt from ${chatSessions} s where s.id = m.session_id
      ) as system_prompt, (
        select later.id from ${messages} later
        where later.session_id = m.session_id and later.role = 'assistant'
          and later.status in ${sql.raw(RUNNING_SQL_LIST)}
        order by later.ord limit 1
      ) as first_in_session
      from ${messages} m where m.id = ${id} and m.role = 'assistant'
    ), claimed as (
      update ${messages} set status = 'generating', attempt = ${messages.attempt} + 1,
        started_at = now(), updated_at = now()
      from target
      where ${messages.id} = target.id and target.first_in_session = target.id and ${replyRunning}
      returning ${messages.attempt} as attempt
    ), branch as (
      -- The reply's context: its ancestors, walked up from its user message (only once claimed).
      select t.id, t.parent_id, t.role, t.content, t.status, t.ord from ${messages} t
      join target on t.id = target.parent_id
      where exists (select 1 from claimed)
      union all
      select t.id, t.parent_id, t.role, t.content, t.status, t.ord from ${messages} t
      join branch on t.id = branch.parent_id
    )
    select target.id, target.session_id as "sessionId", target.user_id as "userId",
      target.correlation_id as "correlationId", target.status,
      (extract(epoch from target.created_at) * 1000)::float8 as "createdAtMs",
      target.first_in_session as "firstInSession", claimed.attempt,
      target.content, target.chunk_lengths as "chunkLengths",
      target.system_prompt as "systemPrompt", target.model,
      case when claimed.attempt is null then null else (
        select coalesce(json_agg(json_build_object('role', b.role, 'content', b.content) order by b.ord), '[]'::json)
        from branch b
        where b.role = 'user' or b.status in ('completed', 'cancelled')
      ) end as turns
    from target left join claimed on true`);
  if (!row) return null;
  const { createdAtMs, content, chunkLengths, ...claimed } = row;
  return { ...claimed, createdAt: new Date(createdAtMs), checkpoint: checkpointChunks(content, chunkLengths) };
}

/**
 * Completes a reply from `attempt`, only while it runs, and touches its session, in one statement.
 * Null when the reply had already ended (a cancel won); else the session's next reply to run.
 */
export async function completeReply({
  id,
  attempt,
  outcome,
}: {
  id: string;
  attempt: number;
  outcome: Omit<Extract<ReplyOutcome, { status: "completed" }>, "status">;
}): Promise<{ nextId: string | null } | null> {
  const { content, model, inputTokens, outputTokens, ttftMs, latencyMs, seq } = outcome;
  // The outer select sees the rows as they were before the update: the reply itself still runs there.
  const query = sql`
    with ended as (
      update ${messages} set status = 'completed', content = ${content}, model = ${model},
        input_tokens = ${inputTokens}, output_tokens = ${outputTokens}, ttft_ms = ${ttftMs}::int,
        latency_ms = ${latencyMs}, seq = ${seq}, updated_at = now(), finished_at = now()
      where id = ${id} and status in ${sql.raw(RUNNING_SQL_LIST)} and attempt = ${attempt}
      returning id, session_id
    ), touched as (
      update ${chatSessions} set updated_at = now() where id = (select session_id from ended)
    )
    select (
      select n.id from ${messages} n
      where n.session_id = ended.session_id and n.role = 'assistant'
        and n.status in ${sql.raw(RUNNING_SQL_LIST)} and n.id <> ended.id
      order by n.ord limit 1
    ) as "nextId" from ended`;
  const row = await firstRow<EndedRow>(query);
  return row ? { nextId: row.nextId ?? null } : null;
}

interface EndedRow {
  nextId: string | null;
}

/** The reply of the session that must run next: replies run one at a time, in send order. */
export async function getNextReplyInSession({ sessionId }: { sessionId: string }): Promise<string | null> {
  const db = await getDb();
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.sessionId, sessionId), eq(messages.role, "assistant"), replyRunning))
    .orderBy(asc(messages.ord))
    .limit(1);
  return row?.id ?? null;
}

/** Moves a reply to its next attempt. Null when it already ended (a stale or repeated job). */
const startAttempt = prepared("start_reply_attempt", (db) =>
  db
    .update(messages)
    .set({ status: "generating", attempt: sql`${messages.attempt} + 1`, startedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(messages.id, sql.placeholder("id")), replyRunning))
    .returning({ attempt: messages.attempt }),
);

export async function startReplyAttempt({ id }: { id: string }): Promise<number | null> {
  const [row] = await (await startAttempt()).execute({ id });
  return row?.attempt ?? null;
}

export type ReplyOutcome =
  | {
      status: "completed";
      content: string;
      model: string;
      inputTokens: number;
      outputTokens: number;
      ttftMs: number | null;
      latencyMs: number;
      seq: number;
    }
  | { status: "error"; content: string; seq?: number; errorCode: string; errorMessage: string }
  | { status: "cancelled"; content?: string; seq?: number };

/**
 * Ends a reply, only while it runs (and, given an attempt, only from that attempt). Postgres is
 * the arbiter: of a worker finishing and a user cancelling, whoever updates first wins.
 */
export async function endReply({
  id,
  attempt,
  outcome,
}: {
  id: string;
  attempt: number | null;
  outcome: ReplyOutcome;
}) {
  const db = await getDb();
  const [row] = await db
    .update(messages)
    .set({ ...outcome, updatedAt: sql`now()`, finishedAt: sql`now()` })
    .where(and(eq(messages.id, id), replyRunning, attempt === null ? undefined : eq(messages.attempt, attempt)))
    .returning();
  return row ?? null;
}

export async function setReplyContent({ id, content, seq }: { id: string; content: string; seq: number }) {
  const db = await getDb();
  await db.update(messages).set({ content, seq, updatedAt: sql`now()` }).where(eq(messages.id, id));
}

/** Replies still queued or generating that nothing has touched since `before` (the sweep's candidates). */
export async function listQuietRunningReplies({ before }: { before: Date }) {
  const db = await getDb();
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.role, "assistant"), replyRunning, lt(messages.updatedAt, before)))
    .orderBy(asc(messages.ord))
    .limit(500);
}

export async function listAllRunningReplies() {
  const db = await getDb();
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.role, "assistant"), replyRunning))
    .orderBy(asc(messages.ord));
}

export async function touchReply({ id }: { id: string }): Promise<void> {
  const db = await getDb();
  await db.update(messages).set({ updatedAt: sql`now()` }).where(eq(messages.id, id));
}

/** The user's replies among `ids` (cursors a client sent). */
/** The user's replies among `ids`, without their text (a stream reads each reply's text as it sends it). */
export async function listRepliesByIdsForUser({ ids, userId }: { ids: string[]; userId: string }) {
  if (ids.length === 0) return [];
  const db = await getDb();
  return db
    .select({
      id: messages.id,
      sessionId: messages.sessionId,
      correlationId: messages.correlationId,
      ord: messages.ord,
    })
    .from(messages)
    .where(and(inArray(messages.id, ids), eq(messages.userId, userId), eq(messages.role, "assistant")));
}

export async function getMessageByIdForUser({ id, userId }: { id: string; userId: string }) {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.userId, userId)))
    .limit(1);
  return row ?? null;
}
