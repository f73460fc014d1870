import { parseMockKnobs } from "./mock-knobs";
import { DEFAULT_MOCK_MODEL, mockReplyTokens } from "./mock-text";
import { mockModels } from "./models";
import { type ChatTurn, type GenerateInput, LlmError, type LlmEvent, type LlmProvider } from "./types";

// The model used in development, tests and the benchmark. It must stay cheap with 1,000 replies
// in flight in one process, so it never sets a timer per token or per reply: every paced reply
// waits on one shared clock that ticks every TICK_MS while any reply is waiting, and on each tick
// sends every token its tokens-per-second schedule says is due, as one text event.
const TICK_MS = 15;
/** With tps=0, tokens per event; a setImmediate between events lets other replies and I/O run. */
const UNPACED_CHUNK_TOKENS = 16;

let nextTick: Promise<void> | null = null;
/** Resolves on the shared clock's next tick (one timer for every reply waiting on it). */
function tick(): Promise<void> {
  nextTick ??= new Promise<void>((resolve) => {
    setTimeout(() => {
      nextTick = null;
      resolve();
    }, TICK_MS);
  });
  return nextTick;
}

export function createMockProvider(): LlmProvider {
  return { name: "mock", model: DEFAULT_MOCK_MODEL, models: mockModels, stream: streamMockReply };
}

async function* streamMockReply(input: GenerateInput): AsyncGenerator<LlmEvent> {
  const { signal } = input;
  throwIfAborted(signal);
  const prompt = lastUserText(input.messages);
  const knobs = parseMockKnobs(prompt);
  if (knobs.fail === "429" && input.attempt <= 1) {
    throw new LlmError("rate_limited", "Mock model: rate limited (fail=429)", { retryable: true, retryAfterMs: 1000 });
  }
  // A continued attempt writes the rest of the same deterministic text, so `fail=once` ends with
  // exactly the text an unfailed reply has.
  const { tokens, kept } = remainingTokens(
    mockReplyTokens(prompt, knobs.tokens, input.model),
    input.continueFrom ?? "",
  );
  const fails = knobs.fail === "always" || (knobs.fail === "once" && input.attempt <= 1);
  const sendable = fails ? Math.floor(tokens.length / 2) : tokens.length;

  // tps=0 means no delay at all, the time to first token included.
  if (knobs.tps > 0) await sleep(knobs.ttft, signal);
  let sent = 0;
  for await (const due of dueTokenCounts(sendable, knobs.tps, signal)) {
    yield { type: "text", text: tokens.slice(sent, due).join("") };
    sent = due;
  }
  if (fails) {
    throw new LlmError("model_error", `Mock model: failed mid-reply (fail=${knobs.fail})`, { retryable: true });
  }
  throwIfAborted(signal);
  const prefill = kept > 0 ? { role: "assistant" as const, content: input.continueFrom ?? "" } : null;
  const inputTokens = countInputWords(prefill ? [...input.messages, prefill] : input.messages);
  yield { type: "usage", inputTokens, outputTokens: sent };
}

/**
 * The tokens that follow `kept` in the reply (a token cut by it gives its rest), and how many
 * tokens the kept text covered. A kept text that is not the reply's start (another model wrote
 * it) is followed by the reply from the point its length reaches.
 */
function remainingTokens(all: string[], keptText: string): { tokens: string[]; kept: number } {
  if (keptText === "") return { tokens: all, kept: 0 };
  let at = 0;
  for (let index = 0; index < all.length; index++) {
    const token = all[index] ?? "";
    if (at + token.length > keptText.length) {
      const rest = token.slice(keptText.length - at);
      return { tokens: [rest, ...all.slice(index + 1)], kept: index + (rest === token ? 0 : 1) };
    }
    at += token.length;
  }
  return { tokens: [], kept: all.length };
}

/** Yields how many tokens are due so far, growing to `total`; throws "cancelled" on abort. */
async function* dueTokenCounts(total: number, tps: number, signal: AbortSignal): AsyncGenerator<number> {
  let sent = 0;
  if (tps === 0) {
    while (sent < total) {
      throwIfAborted(signal);
      sent = Math.min(total, sent + UNPACED_CHUNK_TOKENS);
      yield sent;
      if (sent < total) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return;
  }
  const startedAt = performance.now();
  while (sent < total) {
    throwIfAborted(signal);
    const elapsedMs = performance.now() - startedAt;
    // The +1 makes the first token due at once, so `ttft` really is the time to the first token.
    const due = Math.min(total, 1 + Math.floor((elapsedMs * tps) / 1000));
    if (due > sent) {
      sent = due;
      yield sent;
    }
    // A cancel is seen on the next tick, well within the second the contract allows.
    if (sent < total) await tick();
  }
  throwIfAborted(signal);
}

/** Resolves after `ms`, or at once when `signal` aborts; the caller then checks the signal. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener("abort", wake, { once: true });
  });
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new LlmError("cancelled", "Mock model: reply cancelled", { retryable: false });
}

function lastUserText(messages: ChatTurn[]): string {
  return messages.findLast((turn) => turn.role === "user")?.content ?? "";
}

/** A rough stand-in for a tokenizer: whitespace-separated words, at least 1. */
function countInputWords(messages: ChatTurn[]): number {
  const words = messages.reduce((sum, turn) => sum + turn.content.split(/\s+/).filter(Boolean).length, 0);
  return Math.max(1, words);
}
