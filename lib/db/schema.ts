import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { ENDED_SQL_LIST, REPLY_STATUSES, RUNNING_SQL_LIST } from "../replies/status";

export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  guest: boolean("guest").notNull().default(true),
  // A signed-in account's address, as its provider gave it (null: a guest, or none given).
  email: text("email"),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

// The provider accounts (GitHub, Google, an OpenID issuer) that sign in as a user: one user per
// provider account, found again by the provider's own id for it.
export const accounts = pgTable(
  "accounts",
  {
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.provider, table.providerAccountId] }),
    index("accounts_user_idx").on(table.userId),
  ],
);

export const chatSessions = pgTable(
  "chat_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    // Every reply of the chat receives it (null: none).
    systemPrompt: text("system_prompt"),
    // The message that ends the visible branch (a send, an edit or a regenerate moves it there).
    activeLeafId: uuid("active_leaf_id"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    // Last activity (a send, a finished reply, a rename): the sidebar's order.
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (table) => [index("chat_sessions_user_updated_idx").on(table.userId, table.updatedAt.desc(), table.id.desc())],
);

export const messageRoles = ["user", "assistant"] as const;
export const messageStatuses = REPLY_STATUSES;
export type MessageRole = (typeof messageRoles)[number];
export type MessageStatus = (typeof messageStatuses)[number];

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Insert order. Replies of a session run in this order, and turns are read back in it.
    ord: bigserial("ord", { mode: "number" }).notNull(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => chatSessions.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: messageRoles }).notNull(),
    content: text("content").notNull().default(""),
    status: text("status", { enum: messageStatuses }).notNull(),
    attempt: integer("attempt").notNull().default(0),
    // The number of chunks of the final attempt, so a finished reply's cursor stays placeable.
    // While the reply runs, `content`, `seq` and `chunkLengths` are its checkpoint: the text the
    // store held a few seconds ago, chunk by chunk, from which a store that lost it is rebuilt.
    seq: integer("seq").notNull().default(0),
    chunkLengths: jsonb("chunk_lengths").$type<number[]>(),
    // Messages form a tree: every message but a chat's first has a parent; a reply's context is
    // the path from the root to its user message. A reply's parent is its user message.
    parentId: uuid("parent_id"),
    // A reply's user message (its parent); kept for the idempotent-send lookup.
    inReplyTo: uuid("in_reply_to"),
    clientMessageId: uuid("client_message_id"),
    correlationId: uuid("correlation_id").notNull(),
    model: text("model"),
    inputTokens: integer("input_tokens"),
    outputTokens: integer("output_tokens"),
    ttftMs: integer("ttft_ms"),
    latencyMs: integer("latency_ms"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (table) => [
    index("messages_session_ord_idx").on(table.sessionId, table.ord),
    uniqueIndex("messages_session_client_id_uq").on(table.sessionId, table.clientMessageId),
    // Sends are idempotent per user, also when the first send created the session.
    uniqueIndex("messages_user_client_id_uq").on(table.userId, table.clientMessageId),
    index("messages_running_idx")
      .on(table.userId, table.status)
      .where(sql`${table.status} in ${sql.raw(RUNNING_SQL_LIST)}`),
    // Search (lib/db/queries/search.ts): the words of every ended message. Partial, so a running
    // reply's checkpoints (rewritten every CHECKPOINT_MS) never compute or store a tsvector; its
    // text is indexed once, when it ends. The query must repeat both expressions exactly.
    index("messages_search_idx")
      .using("gin", sql`to_tsvector('english', ${table.content})`)
      .where(sql`${table.status} in ${sql.raw(ENDED_SQL_LIST)}`),
  ],
);

/**
 * A reply still queued or generating. Written out as constants, not bound parameters, so that a
 * prepared statement's generic plan can still prove `messages_running_idx` (whose predicate is
 * this) applies; with the statuses as parameters it scanned every message of the user instead.
 */
export const replyRunning = sql`${messages.status} in ${sql.raw(RUNNING_SQL_LIST)}`;

/**
 * Search is over ended messages, as English words (stemmed, so "running" finds "runs"; stop words
 * dropped). These two are `messages_search_idx`'s expression and predicate, written the same way:
 * the configuration is a literal, as an index expression must be.
 */
export const messageWords = sql`to_tsvector('english', ${messages.content})`;
export const messageEnded = sql`${messages.status} in ${sql.raw(ENDED_SQL_LIST)}`;

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof chatSessions.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
