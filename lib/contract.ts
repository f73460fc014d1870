// The contract's shapes, shared by the server, the browser and the tests. No server imports here.
import * as z from "zod/mini";
import { REPLY_STATUSES, type ReplyStatus } from "./replies/status";

export { isEnded, isRunning, REPLY_STATUSES, RUNNING_STATUSES } from "./replies/status";
export type { ReplyStatus };
export type Role = "user" | "assistant";

/** The longest system prompt a chat may have, in Unicode code points (the API refuses more). */
export const MAX_SYSTEM_PROMPT_CHARS = 8000;

export interface SessionSummary {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  activeMessageId?: string;
  /** What every reply of the chat receives; absent when the chat has none. */
  systemPrompt?: string;
}

export interface StoredMessage {
  id: string;
  /** null for a chat's first message (and an edit of it); see docs/api.md, Branches. */
  parentId: string | null;
  model?: string;
  role: Role;
  content: string;
  status: ReplyStatus;
  createdAt: string;
  correlationId: string;
}

export interface SendAccepted {
  sessionId: string;
  userMessageId: string;
  assistantMessageId: string;
  status: "queued";
  streamUrl: string;
  statusUrl: string;
  correlationId: string;
}

export interface ActiveStream {
  sessionId: string;
  messageId: string;
  status: "queued" | "generating";
  attempt: number;
  seq: number;
  startedAt: string | null;
}

export interface ApiErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

/** A match of GET /api/chat/search: one message of the user's, best first. */
export interface SearchResult {
  sessionId: string;
  messageId: string;
  /** The chat's title. */
  title: string;
  /** Plain text around the matches, each match between SNIPPET_MARK_START and SNIPPET_MARK_END. */
  snippet: string;
  createdAt: string;
}

// The marks around a match in a snippet. The text itself never holds them: a « or » of the
// message is shown as ‹ or › (docs/api.md, Search).
export const SNIPPET_MARK_START = "«";
export const SNIPPET_MARK_END = "»";

// The reply events of the stream: one schema for the server that builds them, the browser that
// reads them (it parses each one with it) and the tests that check them. The SSE `event:` name is
// `type`; `data` is the rest.

export const attemptReasonSchema = z.enum(["model_error", "rate_limited", "worker_lost", "store_lost"]);
/** Why an attempt after the first started (a retry of the model call, or a takeover). */
export type AttemptReason = z.infer<typeof attemptReasonSchema>;

const replyIds = { sessionId: z.string(), messageId: z.string(), correlationId: z.string() };
const count = z.number().check(z.int(), z.nonnegative());

export const statusEventSchema = z.object({
  type: z.literal("status"),
  ...replyIds,
  status: z.enum(REPLY_STATUSES),
  attempt: count,
  /** A cancel's final chunk count, or a continued attempt's kept chunk count. */
  seq: z.optional(count),
  reason: z.optional(attemptReasonSchema),
  continued: z.optional(z.literal(true)),
});
export const chunkEventSchema = z.object({
  type: z.literal("chunk"),
  ...replyIds,
  attempt: count,
  seq: count,
  text: z.string(),
  ts: z.number(),
});
export const resetEventSchema = z.object({ type: z.literal("reset"), ...replyIds, attempt: count });
export const snapshotEventSchema = z.object({
  type: z.literal("snapshot"),
  ...replyIds,
  attempt: count,
  seq: count,
  content: z.string(),
});
export const doneEventSchema = z.object({
  type: z.literal("done"),
  ...replyIds,
  attempt: count,
  seq: count,
  usage: z.object({ inputTokens: count, outputTokens: count }),
  latencyMs: z.number(),
  ttftMs: z.nullable(z.number()),
});
export const errorEventSchema = z.object({
  type: z.literal("error"),
  ...replyIds,
  attempt: count,
  seq: count,
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});
export const replyEventSchema = z.discriminatedUnion("type", [
  statusEventSchema,
  chunkEventSchema,
  resetEventSchema,
  snapshotEventSchema,
  doneEventSchema,
  errorEventSchema,
]);

export type StatusEvent = z.infer<typeof statusEventSchema>;
export type ChunkEvent = z.infer<typeof chunkEventSchema>;
export type ResetEvent = z.infer<typeof resetEventSchema>;
export type SnapshotEvent = z.infer<typeof snapshotEventSchema>;
export type DoneEvent = z.infer<typeof doneEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;
/** A reply event as the stream carries it. */
export type ReplyEvent = z.infer<typeof replyEventSchema>;
export type ReplyEventType = ReplyEvent["type"];
export const REPLY_EVENT_TYPES: ReadonlySet<string> = new Set<ReplyEventType>([
  "status",
  "chunk",
  "reset",
  "snapshot",
  "done",
  "error",
]);

/** An SSE message (`event:` name and `data` text) as a reply event; null when it is none or malformed. */
export function parseReplyEvent(type: string, data: string): ReplyEvent | null {
  if (!REPLY_EVENT_TYPES.has(type)) return null;
  try {
    const parsed = replyEventSchema.safeParse({ ...JSON.parse(data), type });
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
