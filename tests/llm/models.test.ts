import { describe, expect, it } from "vitest";
import { parseEnv as parseProcessEnv } from "@/lib/env";
import { createLlmProvider, listModels, llmConfigFromEnv, resolveModel } from "@/lib/llm";
import { anthropicModelLabel } from "@/lib/llm/models";

const parseEnv = (variables: Record<string, string | undefined>) => parseProcessEnv({ NODE_ENV: "test", ...variables });

const MOCK_MODELS = [
  { id: "mock-1", label: "Mock (fast)", provider: "mock" },
  { id: "mock-2", label: "Mock (thorough)", provider: "mock" },
];

describe("the models a deployment serves", () => {
  it("are the mock's two when no API key is set", () => {
    expect(listModels(llmConfigFromEnv(parseEnv({})))).toEqual(MOCK_MODELS);
  });

  it("are ANTHROPIC_MODELS in order, the first the default, spaces and empty items dropped", () => {
    const env = parseEnv({
      ANTHROPIC_API_KEY: "k",
      ANTHROPIC_MODELS: " claude-opus-4-1, claude-haiku-4-5 ,,claude-opus-4-1",
    });
    expect(env.anthropicModels).toEqual(["claude-opus-4-1", "claude-haiku-4-5"]);
    const config = llmConfigFromEnv(env);
    expect(listModels(config).map((model) => model.id)).toEqual(["claude-opus-4-1", "claude-haiku-4-5"]);
    expect(createLlmProvider(config).model).toBe("claude-opus-4-1");
  });

  it("are ANTHROPIC_MODEL alone when ANTHROPIC_MODELS is unset or empty", () => {
    for (const ANTHROPIC_MODELS of [undefined, "", " , "]) {
      const env = parseEnv({ ANTHROPIC_API_KEY: "k", ANTHROPIC_MODEL: "claude-test", ANTHROPIC_MODELS });
      expect(listModels(llmConfigFromEnv(env))).toEqual([
        { id: "claude-test", label: "Claude Test", provider: "anthropic" },
      ]);
    }
    expect(parseEnv({ ANTHROPIC_API_KEY: "k" }).anthropicModels).toEqual(["claude-sonnet-4-5"]);
  });

  it("refuses a model list with a space inside an id, naming the variable", () => {
    expect(() => parseEnv({ ANTHROPIC_MODELS: "claude one,claude-two" })).toThrow(/ANTHROPIC_MODELS/);
  });

  it("are the mock's with LLM_PROVIDER=mock even when ANTHROPIC_MODELS is set", () => {
    const env = parseEnv({ LLM_PROVIDER: "mock", ANTHROPIC_API_KEY: "k", ANTHROPIC_MODELS: "claude-a" });
    expect(listModels(llmConfigFromEnv(env))).toEqual(MOCK_MODELS);
  });
});

describe("resolveModel", () => {
  const mock = createLlmProvider({ provider: "mock", model: "ignored" });
  const anthropic = createLlmProvider({
    provider: "anthropic",
    apiKey: "k",
    model: "x",
    models: ["claude-a", "claude-b"],
  });

  it("gives the default model when the send names none", () => {
    expect(resolveModel(mock)).toBe("mock-1");
    expect(resolveModel(anthropic)).toBe("claude-a");
  });

  it("gives a model the provider serves back as it is", () => {
    expect(resolveModel(mock, "mock-2")).toBe("mock-2");
    expect(resolveModel(anthropic, "claude-b")).toBe("claude-b");
  });

  it("gives null for a model the provider does not serve (the send's 400)", () => {
    expect(resolveModel(mock, "claude-a")).toBeNull();
    expect(resolveModel(anthropic, "mock-1")).toBeNull();
    expect(resolveModel(anthropic, "")).toBeNull();
    expect(resolveModel(anthropic, "CLAUDE-A")).toBeNull();
  });
});

describe("anthropicModelLabel", () => {
  it.each([
    ["claude-sonnet-4-5", "Claude Sonnet 4.5"],
    ["claude-opus-4-1-20250805", "Claude Opus 4.1"],
    ["claude-3-5-haiku-latest", "Claude 3.5 Haiku Latest"],
    ["claude-haiku-4-5", "Claude Haiku 4.5"],
    ["my-model", "My Model"],
  ])("names %s %s", (id, label) => {
    expect(anthropicModelLabel(id)).toBe(label);
  });
});
