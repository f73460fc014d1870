// The one builder of each end event, from a store's state or from the database's row, and the
// sentences a person reads when a reply fails.
import type { MessageRow } from "../db/schema";
import type { LlmError } from "../llm/types";
import type { FinishOutcome, ReplyState, TerminalEvent } from "../streams/types";
import { FINAL_ERROR_CODES } from "./status";

type ReplyIds = Pick<ReplyState, "sessionId" | "messageId" | "correlationId">;

/** The end event of a reply: `done`, `error` or `status cancelled`, after `seq` chunks of `attempt`. */
export function endEventOf(ids: ReplyIds, attempt: number, seq: number, outcome: FinishOutcome): TerminalEvent {
  const base = { sessionId: ids.sessionId, messageId: ids.messageId, correlationId: ids.correlationId, attempt, seq };
  switch (outcome.status) {
    case "completed":
      return { ...base, type: "done", usage: outcome.usage, latencyMs: outcome.latencyMs, ttftMs: outcome.ttftMs };
    case "error":
      return { ...base, type: "error", code: outcome.code, message: outcome.message, retryable: outcome.retryable };
    case "cancelled":
      return { ...base, type: "status", status: "cancelled" };
  }
}

/** How an ended row ended, as the store records an end; null while the reply runs. */
export function outcomeOfRow(row: MessageRow): FinishOutcome | null {
  switch (row.status) {
    case "completed":
      return {
        status: "completed",
        usage: { inputTokens: row.inputTokens ?? 0, outputTokens: row.outputTokens ?? 0 },
        latencyMs: row.latencyMs ?? 0,
        ttftMs: row.ttftMs,
      };
    case "error": {
      const code = row.errorCode ?? "generation_failed";
      return {
        status: "error",
        code,
        message: row.errorMessage ?? failureMessage(code),
        retryable: !FINAL_ERROR_CODES.has(code),
      };
    }
    case "cancelled":
      return { status: "cancelled" };
    default:
      return null;
  }
}

/** The end event the database's row records (after `seq` chunks); null while the reply runs. */
export function endEventOfRow(row: MessageRow, seq: number): TerminalEvent | null {
  const outcome = outcomeOfRow(row);
  return outcome ? endEventOf({ ...row, messageId: row.id }, row.attempt, seq, outcome) : null;
}

/** What a failed reply says, by its error code: a sentence a person understands. */
export function failureMessage(code: LlmError["code"] | string): string {
  switch (code) {
    case "rate_limited":
      return "The model is getting too many requests right now. Wait a moment, then retry.";
    case "overloaded":
    case "model_unavailable":
      return "The model is unavailable right now. Retry in a moment.";
    case "bad_request":
      return "The model could not answer this conversation. Try rewording your message.";
    case "auth_failed":
      return "The server's model credentials were refused. Tell whoever runs this server.";
    case "generation_failed":
      return "The reply kept failing, so it was stopped after several attempts. Retry to ask again.";
    default:
      return "The reply could not be written. Retry to ask again.";
  }
}
