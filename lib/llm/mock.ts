import { parseMockKnobs } from "./mock-knobs";
import { DEFAULT_MOCK_MODEL, mockReplyTokens } from "./mock-text";
import { mockModels } from "./models";
import { type ChatTurn, type GenerateInput, LlmError, type LlmEvent, type LlmProvider, type LlmUsage } from "./types";

// The model used in development, tests and the benchmark. It must stay cheap with 1,000 replies
// in flight in one process, so it never sets a timer per token or per reply: one shared clock
// ticks every TICK_MS while any paced reply runs, and on each tick hands every reply the tokens
// its tokens-per-second schedule says are due, as one text event, by a plain call (`streamText`):
// no promise per token. `stream` (the async iterator every provider has) is the same reply read
// through a queue.
const TICK_MS = 15;
/** With tps=0, tokens per event; a setImmediate between events lets other replies and I/O run. */
const UNPACED_CHUNK_TOKENS = 16;

/** A paced reply on the shared clock. */
interface Paced {
  tokens: readonly string[];
  /** Tokens to send (fewer than `tokens` when the reply fails mid-way). */
  total: number;
  sent: number;
  tps: number;
  startedAt: number;
  /** Set by the signal's abort: a field read per tick, where `signal.aborted` is a checked getter. */
  aborted: boolean;
  signal: AbortSignal;
  onAbort: () => void;
  onText: (text: string) => void;
  settle: (error: unknown) => void;
}

const paced = new Set<Paced>();
let clock: NodeJS.Timeout | null = null;

function tickAll(): void {
  const now = performance.now();
  for (const reply of paced) step(reply, now);
  if (paced.size === 0 && clock) {
    clearInterval(clock);
    clock = null;
  }
}

/** Sends what is due of `reply`; true once it has ended (sent everything, aborted, or failed). */
function step(reply: Paced, now: number): boolean {
  if (reply.aborted) return end(reply, cancelled());
  const elapsedMs = now - reply.startedAt;
  // The +1 makes the first token due at once, so `ttft` really is the time to the first token.
  const due = Math.min(reply.total, 1 + Math.floor((elapsedMs * reply.tps) / 1000));
  if (due > reply.sent) {
    const text =
      due - reply.sent === 1 ? (reply.tokens[reply.sent] ?? "") : reply.tokens.slice(reply.sent, due).join("");
    reply.sent = due;
    try {
      reply.onText(text);
    } catch (error) {
      return end(reply, error);
    }
  }
  return reply.sent >= reply.total ? end(reply, null) : false;
}

function end(reply: Paced, error: unknown): true {
  paced.delete(reply);
  reply.signal.removeEventListener("abort", reply.onAbort);
  reply.settle(error);
  return true;
}

/** Sends `total` of `tokens` at `tps` (0: all at once, in events of 16); resolves with how many it sent. */
function sendTokens(
  tokens: readonly string[],
  total: number,
  tps: number,
  signal: AbortSignal,
  onText: (text: string) => void,
): Promise<number> {
  if (tps === 0) return sendUnpaced(tokens, total, signal, onText);
  return new Promise<number>((resolve, reject) => {
    if (total === 0) return signal.aborted ? reject(cancelled()) : resolve(0);
    const startedAt = performance.now();
    const reply: Paced = {
      tokens,
      total,
      sent: 0,
      tps,
      startedAt,
      aborted: signal.aborted,
      signal,
      onAbort: () => {
        reply.aborted = true;
      },
      onText,
      settle: (error) => (error === null ? resolve(reply.sent) : reject(error)),
    };
    signal.addEventListener("abort", reply.onAbort, { once: true });
    if (step(reply, startedAt)) return;
    paced.add(reply);
    clock ??= setInterval(tickAll, TICK_MS);
  });
}

async function sendUnpaced(
  tokens: readonly string[],
  total: number,
  signal: AbortSignal,
  onText: (text: string) => void,
): Promise<number> {
  let sent = 0;
  while (sent < total) {
    throwIfAborted(signal);
    const next = Math.min(total, sent + UNPACED_CHUNK_TOKENS);
    onText(tokens.slice(sent, next).join(""));
    sent = next;
    if (sent < total) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return sent;
}

export function createMockProvider(): LlmProvider {
  return {
    name: "mock",
    model: DEFAULT_MOCK_MODEL,
    models: mockModels,
    stream: streamMockReply,
    streamText: streamMockText,
  };
}

async function streamMockText(input: GenerateInput, onText: (text: string) => void): Promise<LlmUsage> {
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
  const sent = await sendTokens(tokens, sendable, knobs.tps, signal, onText);
  if (fails) {
    throw new LlmError("model_error", `Mock model: failed mid-reply (fail=${knobs.fail})`, { retryable: true });
  }
  throwIfAborted(signal);
  const prefill = kept > 0 ? { role: "assistant" as const, content: input.continueFrom ?? "" } : null;
  const inputTokens = countInputWords(prefill ? [...input.messages, prefill] : input.messages);
  return { inputTokens, outputTokens: sent };
}

/** `streamMockText` as an async iterator: each text event, then the usage. */
async function* streamMockReply(input: GenerateInput): AsyncGenerator<LlmEvent> {
  const queue: LlmEvent[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let abandoned = false;
  const outcome: { failure: { error: unknown } | null } = { failure: null };
  const onText = (text: string) => {
    // A reader that stopped reading ends the reply at its next event.
    if (abandoned) throw cancelled();
    queue.push({ type: "text", text });
    wake?.();
  };
  streamMockText(input, onText)
    .then(
      (usage) => {
        queue.push({ type: "usage", ...usage });
      },
      (error: unknown) => {
        outcome.failure = { error };
      },
    )
    .finally(() => {
      finished = true;
      wake?.();
    });
  try {
    for (;;) {
      for (let event = queue.shift(); event; event = queue.shift()) yield event;
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
  } finally {
    abandoned = true;
  }
  if (outcome.failure) throw outcome.failure.error;
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

function cancelled(): LlmError {
  return new LlmError("cancelled", "Mock model: reply cancelled", { retryable: false });
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw cancelled();
}

function lastUserText(messages: ChatTurn[]): string {
  return messages.findLast((turn) => turn.role === "user")?.content ?? "";
}

/** A rough stand-in for a tokenizer: whitespace-separated words, at least 1. */
function countInputWords(messages: ChatTurn[]): number {
  const words = messages.reduce((sum, turn) => sum + turn.content.split(/\s+/).filter(Boolean).length, 0);
  return Math.max(1, words);
}
