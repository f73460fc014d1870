import { createAnthropicProvider } from "./anthropic";
import { createMockProvider } from "./mock";
import type { LlmProvider } from "./types";

export { createAnthropicProvider } from "./anthropic";
export { createMockProvider } from "./mock";
export { parseMockKnobs } from "./mock-knobs";
export * from "./types";

export interface LlmProviderConfig {
  provider: "mock" | "anthropic";
  /** Required for "anthropic"; ignored by the mock. */
  apiKey?: string;
  /** The Anthropic model id; the mock always reports "mock-1". */
  model: string;
  baseURL?: string;
}

/** The provider the environment asks for (see lib/env.ts: LLM_PROVIDER, ANTHROPIC_*). */
export function createLlmProvider(config: LlmProviderConfig): LlmProvider {
  if (config.provider === "mock") return createMockProvider();
  if (!config.apiKey) {
    throw new Error("The anthropic LLM provider needs an API key (set ANTHROPIC_API_KEY, or LLM_PROVIDER=mock).");
  }
  return createAnthropicProvider({ apiKey: config.apiKey, model: config.model, baseURL: config.baseURL });
}
