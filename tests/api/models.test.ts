import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic";

// GET /api/models in each deployment mode, one with the mock and one with Anthropic models.
const cases: Array<{ mode: Mode; provider: "mock" | "anthropic"; expected: unknown[] }> = [
  {
    mode: "embedded",
    provider: "mock",
    expected: [
      { id: "mock-1", label: "Mock (fast)", provider: "mock" },
      { id: "mock-2", label: "Mock (thorough)", provider: "mock" },
    ],
  },
  {
    mode: "redis",
    provider: "anthropic",
    expected: [
      { id: "claude-sonnet-4-5", label: "Claude Sonnet 4.5", provider: "anthropic" },
      { id: "claude-haiku-4-5", label: "Claude Haiku 4.5", provider: "anthropic" },
    ],
  },
];

describe.each(cases)("GET /api/models ($mode mode, $provider)", ({ mode, provider, expected }) => {
  let app: RunningApp;
  let fake: FakeAnthropic | undefined;

  beforeAll(async () => {
    if (provider === "anthropic") fake = await startFakeAnthropic();
    const anthropicEnv: Record<string, string> = fake
      ? {
          ANTHROPIC_API_KEY: "test-key",
          ANTHROPIC_BASE_URL: fake.url,
          ANTHROPIC_MODEL: "claude-not-listed",
          ANTHROPIC_MODELS: "claude-sonnet-4-5, claude-haiku-4-5",
        }
      : {};
    app = await startApp(mode, anthropicEnv);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it("lists the models this deployment serves, the default first, without a session", async () => {
    const response = await fetch(`${app.baseUrl}/api/models`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ models: expected });
  });

  it("echoes the request's correlation id", async () => {
    const correlationId = "0b7a3c1e-8f2d-4c5b-9a6e-1d2f3a4b5c6d";
    const response = await fetch(`${app.baseUrl}/api/models`, { headers: { "X-Correlation-Id": correlationId } });
    expect(response.headers.get("x-correlation-id")).toBe(correlationId);
  });

  it("makes no model call to list them", () => {
    expect(fake?.requests ?? []).toHaveLength(0);
  });
});
