import type { ReplyState, StatusEvent, TerminalEvent } from "./types";

export function statusEventOf(state: ReplyState): StatusEvent {
  return {
    type: "status",
    sessionId: state.sessionId,
    messageId: state.messageId,
    correlationId: state.correlationId,
    status: state.status,
    attempt: state.attempt,
  };
}

export function terminalEventOf(
  state: Pick<ReplyState, "sessionId" | "messageId" | "correlationId">,
  attempt: number,
  seq: number,
  outcome: import("./types").FinishOutcome,
): TerminalEvent {
  const base = { sessionId: state.sessionId, messageId: state.messageId, correlationId: state.correlationId };
  switch (outcome.status) {
    case "completed":
      return {
        ...base,
        type: "done",
        attempt,
        seq,
        usage: outcome.usage,
        latencyMs: outcome.latencyMs,
        ttftMs: outcome.ttftMs,
      };
    case "error":
      return {
        ...base,
        type: "error",
        attempt,
        seq,
        code: outcome.code,
        message: outcome.message,
        retryable: outcome.retryable,
      };
    case "cancelled":
      return { ...base, type: "status", status: "cancelled", attempt, seq };
  }
}

export function channelNames(ref: { sessionId: string; userId: string }): [string, string] {
  return [`chat:session:${ref.sessionId}`, `chat:user:${ref.userId}`];
}

export const CONTROL_CHANNEL = "chat:control";

export function channelName(channel: import("./types").Channel): string {
  switch (channel.kind) {
    case "session":
      return `chat:session:${channel.sessionId}`;
    case "user":
      return `chat:user:${channel.userId}`;
    case "control":
      return CONTROL_CHANNEL;
  }
}
