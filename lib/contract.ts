// The contract's shapes, shared by the server and the browser. No server imports here.
export type ReplyStatus = "queued" | "generating" | "completed" | "error" | "cancelled";
export type Role = "user" | "assistant";
/** Why an attempt after the first started (a retry of the model call, or a takeover). */
export type AttemptReason = "model_error" | "rate_limited" | "worker_lost" | "store_lost";

export interface SessionSummary {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  activeMessageId?: string;
}

export interface StoredMessage {
  id: string;
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

/** An SSE event of a reply, as the browser receives it (`event:` name plus parsed `data`). */
export type ReplyEvent =
  | {
      event: "status";
      sessionId: string;
      messageId: string;
      status: ReplyStatus;
      attempt: number;
      seq?: number;
      reason?: AttemptReason;
      continued?: boolean;
    }
  | { event: "chunk"; sessionId: string; messageId: string; attempt: number; seq: number; text: string; ts: number }
  | { event: "reset"; sessionId: string; messageId: string; attempt: number }
  | { event: "snapshot"; sessionId: string; messageId: string; attempt: number; seq: number; content: string }
  | { event: "done"; sessionId: string; messageId: string; attempt: number; seq: number }
  | { event: "error"; sessionId: string; messageId: string; code: string; message: string; retryable: boolean };
