// The model boundary: a conversation in, a stream of text and usage out.
// Knows nothing of Redis, queues or HTTP (see STYLE.md "Walls worth keeping").

export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

export interface GenerateInput {
  /** Earlier turns and the message being answered (last), oldest first. */
  messages: ChatTurn[];
  /** Aborting stops the model call; the stream then throws an LlmError with code "cancelled". */
  signal: AbortSignal;
  /** 1 for the first attempt at this reply, 2 for the first retry, ... */
  attempt: number;
  /**
   * The reply's text an earlier attempt wrote: the provider writes only what follows it, so the
   * reply reads as one text (the stream yields the continuation, never this text again).
   */
  continueFrom?: string;
  /** One of the provider's `models()` ids; the first (`LlmProvider.model`) when unset. */
  model?: string;
  /** The chat's system prompt, when it has one. */
  system?: string;
  maxTokens?: number;
}

export type LlmEvent = { type: "text"; text: string } | { type: "usage"; inputTokens: number; outputTokens: number };

/** A model a deployment serves, as `GET /api/models` lists it. */
export interface LlmModel {
  id: string;
  label: string;
  provider: "mock" | "anthropic";
}

export interface LlmProvider {
  readonly name: "mock" | "anthropic";
  /** The default model: the first of `models()`. */
  readonly model: string;
  /** Every model this provider serves, the default first. */
  models(): LlmModel[];
  stream(input: GenerateInput): AsyncIterable<LlmEvent>;
  /**
   * The same call with its text pushed: `onText` gets each text event as the model sends it, and
   * the promise resolves with the usage (or rejects with an LlmError). An `onText` that throws
   * ends the call with that error. Optional: a provider without it is read through `stream`. It
   * costs no promise per event, where an async iterator costs several (and, with a log context
   * on Node 20, an async hook for each): with 1,000 replies in one worker that was most of its CPU.
   */
  streamText?(input: GenerateInput, onText: (text: string) => void): Promise<LlmUsage>;
}

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

export type LlmErrorCode =
  | "cancelled"
  | "rate_limited"
  | "overloaded"
  | "model_unavailable"
  | "bad_request"
  | "auth_failed"
  | "model_error";

/** Every failure a provider raises. `retryable` says whether a new attempt may succeed. */
export class LlmError extends Error {
  readonly code: LlmErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: LlmErrorCode,
    message: string,
    options: { retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = "LlmError";
    this.code = code;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}
