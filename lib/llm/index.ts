import type { Env } from "../env";
import { createAnthropicProvider } from "./anthropic";
import { createMockProvider } from "./mock";
import { anthropicModels, mockModels } from "./models";
import type { LlmModel, LlmProvider } from "./types";

export { createAnthropicProvider } from "./anthropic";
export { createMockProvider } from "./mock";
export { parseMockKnobs } from "./mock-knobs";
export { resolveModel } from "./models";
export * from "./types";

export interface LlmProviderConfig {
  provider: "mock" | "anthropic";
  /** Required for "anthropic"; ignored by the mock. */
  apiKey?: string;
  /** The default Anthropic model id; the mock serves its own ("mock-1", "mock-2"). */
  model: string;
  /** Every Anthropic model served, the default first (ANTHROPIC_MODELS); default: `[model]`. */
  models?: readonly string[];
  baseURL?: string;
}

/** The provider config `env()` describes, for the worker and for `GET /api/models` alike. */
export function llmConfigFromEnv(config: Env): LlmProviderConfig {
  return {
    provider: config.llmProvider,
    apiKey: config.ANTHROPIC_API_KEY,
    model: config.anthropicModels[0] ?? config.ANTHROPIC_MODEL,
    models: config.anthropicModels,
    baseURL: config.ANTHROPIC_BASE_URL,
  };
}

/** What the configured provider serves, without making an API client. */
export function listModels(config: LlmProviderConfig): LlmModel[] {
  if (config.provider === "mock") return mockModels();
  return anthropicModels(config.models, config.model);
}

/** The provider the environment asks for (see lib/env.ts: LLM_PROVIDER, ANTHROPIC_*). */
export function createLlmProvider(config: LlmProviderConfig): LlmProvider {
  if (config.provider === "mock") return createMockProvider();
  if (!config.apiKey) {
    throw new Error("The anthropic LLM provider needs an API key (set ANTHROPIC_API_KEY, or LLM_PROVIDER=mock).");
  }
  return createAnthropicProvider({
    apiKey: config.apiKey,
    model: config.model,
    models: config.models,
    baseURL: config.baseURL,
  });
}
