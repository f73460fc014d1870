import Anthropic from "@anthropic-ai/sdk";
import { toLlmError } from "./anthropic-errors";
import { anthropicModels } from "./models";
import { type ChatTurn, type GenerateInput, LlmError, type LlmEvent, type LlmProvider } from "./types";

export interface AnthropicProviderConfig {
  apiKey: string;
  /** The default model, used when a call names none and `models` is unset. */
  model: string;
  /** Every model this deployment serves, the default first (ANTHROPIC_MODELS); default: `[model]`. */
  models?: readonly string[];
  /** Unset means the public API; the SDK's own ANTHROPIC_BASE_URL lookup is bypassed (lib/env.ts reads it). */
  baseURL?: string;
  maxTokens?: number;
  /** How long the stream may go without any event before it counts as dead (default 90 s). */
  stallTimeoutMs?: number;
}

const DEFAULT_MAX_TOKENS = 4096;
// The SDK's `timeout` only bounds the wait for response headers, not the streamed body, so a
// separate stall guard ends a stream that goes quiet (the API sends pings while it thinks).
const HEADERS_TIMEOUT_MS = 60_000;
const STALL_TIMEOUT_MS = 90_000;

export function createAnthropicProvider(config: AnthropicProviderConfig): LlmProvider {
  // maxRetries 0: our worker owns retries, with backoff and a visible attempt count.
  const client = new Anthropic({
    apiKey: config.apiKey,
    baseURL: config.baseURL ?? null,
    maxRetries: 0,
    timeout: HEADERS_TIMEOUT_MS,
  });
  const models = anthropicModels(config.models, config.model);
  const defaultModel = models[0]?.id ?? config.model;
  return {
    name: "anthropic",
    model: defaultModel,
    models: () => models.map((model) => ({ ...model })),
    stream: (input) => streamReply(client, { ...config, model: input.model ?? defaultModel }, input),
  };
}

async function* streamReply(
  client: Anthropic,
  config: AnthropicProviderConfig,
  input: GenerateInput,
): AsyncGenerator<LlmEvent> {
  const messages: ChatTurn[] = toAlternatingTurns(input.messages);
  if (messages.length === 0) {
    throw new LlmError("bad_request", "Anthropic: no user message to answer", { retryable: false });
  }
  // A continued attempt sends the kept text as the start of the assistant turn (prefill). The API
  // refuses a final assistant turn that ends in whitespace, so that is cut off here and the
  // continuation's leading whitespace is dropped: the kept text already has it.
  const prefill = (input.continueFrom ?? "").trimEnd();
  const cutWhitespace = prefill !== "" && prefill.length < (input.continueFrom ?? "").length;
  if (prefill !== "") messages.push({ role: "assistant", content: prefill });
  let leading = cutWhitespace;
  const stall = new AbortController();
  const stallTimer = setTimeout(() => stall.abort(), config.stallTimeoutMs ?? STALL_TIMEOUT_MS);
  // An abort ends the SDK's event iteration silently (no throw), so each exit checks the signals.
  const interrupted = (cause?: unknown): LlmError | undefined => {
    if (input.signal.aborted) {
      return new LlmError("cancelled", "Anthropic: request cancelled", { retryable: false, cause });
    }
    if (stall.signal.aborted) {
      return new LlmError("model_unavailable", "Anthropic: stream stalled", { retryable: true, cause });
    }
    return undefined;
  };
  const usage: Extract<LlmEvent, { type: "usage" }> = { type: "usage", inputTokens: 0, outputTokens: 0 };
  let stopped = false;
  try {
    const events = await client.messages.create(
      {
        model: config.model,
        max_tokens: input.maxTokens ?? config.maxTokens ?? DEFAULT_MAX_TOKENS,
        messages,
        ...(input.system ? { system: input.system } : {}),
        stream: true,
      },
      { signal: AbortSignal.any([input.signal, stall.signal]) },
    );
    for await (const event of events) {
      stallTimer.refresh();
      if (event.type === "content_block_delta" && event.delta.type === "text_delta" && event.delta.text) {
        let text = event.delta.text;
        if (leading) {
          text = text.trimStart();
          leading = text === "";
        }
        if (text) yield { type: "text", text };
      } else if (event.type === "message_start") {
        usage.inputTokens = totalInputTokens(event.message.usage);
        usage.outputTokens = event.message.usage.output_tokens ?? 0;
      } else if (event.type === "message_delta") {
        // message_delta counts are cumulative; input_tokens is only there when it changed.
        if (event.usage.input_tokens != null) usage.inputTokens = totalInputTokens(event.usage);
        usage.outputTokens = event.usage.output_tokens ?? usage.outputTokens;
      } else if (event.type === "message_stop") {
        stopped = true;
      }
    }
  } catch (error) {
    throw interrupted(error) ?? toLlmError(error, input.signal);
  } finally {
    clearTimeout(stallTimer);
  }
  const interruption = interrupted();
  if (interruption) throw interruption;
  if (!stopped) {
    throw new LlmError("model_unavailable", "Anthropic: stream ended before message_stop", { retryable: true });
  }
  yield usage;
}

function totalInputTokens(usage: {
  input_tokens: number | null;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
}): number {
  return (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

/**
 * The API wants turns that alternate, starting with the user, and treats a trailing assistant
 * turn as a prefill (a 400 on newer models). Our history can break that (a failed reply leaves
 * two user turns in a row), so: drop empty turns, merge neighbours of one role with a blank line,
 * and drop leading and trailing assistant turns.
 */
export function toAlternatingTurns(turns: readonly ChatTurn[]): ChatTurn[] {
  const merged: ChatTurn[] = [];
  for (const turn of turns) {
    if (turn.content.trim() === "") continue;
    const previous = merged.at(-1);
    if (previous === undefined && turn.role === "assistant") continue;
    if (previous?.role === turn.role) previous.content = `${previous.content}\n\n${turn.content}`;
    else merged.push({ role: turn.role, content: turn.content });
  }
  while (merged.at(-1)?.role === "assistant") merged.pop();
  return merged;
}
