import { type ChatTurn, LlmError, type LlmEvent, type LlmProvider } from "@/lib/llm";

// Shared by the LLM provider tests: drive one reply to its end and describe what came out.

export type UsageEvent = Extract<LlmEvent, { type: "usage" }>;

export interface Outcome {
  events: LlmEvent[];
  text: string;
  textEvents: number;
  usage: UsageEvent[];
  error: LlmError | undefined;
  firstTextMs: number | undefined;
  totalMs: number;
}

/** Runs one reply to the end and reports what came out; an LlmError is captured, not thrown. */
export async function run(
  provider: LlmProvider,
  prompt: string | ChatTurn[],
  options: { attempt?: number; signal?: AbortSignal; onText?: () => void; continueFrom?: string; model?: string } = {},
): Promise<Outcome> {
  const messages = typeof prompt === "string" ? [{ role: "user" as const, content: prompt }] : prompt;
  const signal = options.signal ?? new AbortController().signal;
  const events: LlmEvent[] = [];
  const startedAt = performance.now();
  let firstTextMs: number | undefined;
  let error: LlmError | undefined;
  try {
    for await (const event of provider.stream({
      messages,
      signal,
      attempt: options.attempt ?? 1,
      continueFrom: options.continueFrom,
      model: options.model,
    })) {
      if (event.type === "text") {
        firstTextMs ??= performance.now() - startedAt;
        options.onText?.();
      }
      events.push(event);
    }
  } catch (caught) {
    if (!(caught instanceof LlmError)) throw caught;
    error = caught;
  }
  const texts = events.flatMap((event) => (event.type === "text" ? [event.text] : []));
  const usage = events.filter((event): event is UsageEvent => event.type === "usage");
  return {
    events,
    text: texts.join(""),
    textEvents: texts.length,
    usage,
    error,
    firstTextMs,
    totalMs: performance.now() - startedAt,
  };
}

export const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;
