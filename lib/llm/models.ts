import { MOCK_MODEL_STYLES } from "./mock-text";
import type { LlmModel, LlmProvider } from "./types";

// The models a deployment serves: the mock's own two, or the Anthropic ids of ANTHROPIC_MODELS.

export function mockModels(): LlmModel[] {
  return [...MOCK_MODEL_STYLES].map(([id, { label }]) => ({ id, label, provider: "mock" }));
}

/** The Anthropic models served: `ids` (ANTHROPIC_MODELS) or, when it is empty or unset, `model` alone. */
export function anthropicModels(ids: readonly string[] | undefined, model: string): LlmModel[] {
  return [...new Set(ids?.length ? ids : [model])].map((id) => ({
    id,
    label: anthropicModelLabel(id),
    provider: "anthropic",
  }));
}

/**
 * A readable name for an Anthropic model id: "claude-sonnet-4-5" → "Claude Sonnet 4.5",
 * "claude-3-5-haiku-20241022" → "Claude 3.5 Haiku" (a date suffix says nothing to a person).
 */
export function anthropicModelLabel(id: string): string {
  const words: string[] = [];
  for (const part of id.split("-").filter(Boolean)) {
    const previous = words.at(-1);
    if (/^\d{8}$/.test(part)) continue;
    if (/^\d{1,2}$/.test(part) && previous !== undefined && /^\d+(\.\d+)*$/.test(previous)) {
      words[words.length - 1] = `${previous}.${part}`;
    } else {
      words.push(part.charAt(0).toUpperCase() + part.slice(1));
    }
  }
  return words.length > 0 ? words.join(" ") : id;
}

/**
 * The model a send asks for, as the provider will be called with it: `id` when the provider
 * serves it, its default when `id` is unset, null for an id it does not serve (a 400).
 */
export function resolveModel(provider: Pick<LlmProvider, "models">, id?: string): string | null {
  const models = provider.models();
  if (id === undefined) return models[0]?.id ?? null;
  return models.some((model) => model.id === id) ? id : null;
}
