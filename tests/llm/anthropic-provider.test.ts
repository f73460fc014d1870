import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatTurn, createAnthropicProvider, createLlmProvider } from "@/lib/llm";
import { toAlternatingTurns } from "@/lib/llm/anthropic";
import { retryAfterMsFrom } from "@/lib/llm/anthropic-errors";
import { FAKE_REPLY, FAKE_USAGE, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic";
import { run } from "../support/llm-run";

describe("anthropic provider against the fake API", () => {
  let fake: FakeAnthropic | undefined;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await fake?.close();
  });
  const server = (): FakeAnthropic => {
    if (!fake) throw new Error("the fake API did not start");
    return fake;
  };
  const provider = () =>
    createAnthropicProvider({ apiKey: "test-key", model: "claude-test-model", baseURL: server().url });

  it("streams the fake's reply text and reports the usage it sent", async () => {
    const outcome = await run(provider(), "scenario:text hi");
    expect(outcome.text).toBe(FAKE_REPLY);
    expect(outcome.textEvents).toBeGreaterThan(1);
    expect(outcome.usage).toEqual([{ type: "usage", ...FAKE_USAGE }]);
  });

  it.each([
    { scenario: "error-midstream", code: "overloaded", retryable: true, retryAfterMs: undefined },
    { scenario: "429", code: "rate_limited", retryable: true, retryAfterMs: 2000 },
    { scenario: "529", code: "overloaded", retryable: true, retryAfterMs: undefined },
    { scenario: "400", code: "bad_request", retryable: false, retryAfterMs: undefined },
    { scenario: "401", code: "auth_failed", retryable: false, retryAfterMs: undefined },
    { scenario: "cut", code: "model_unavailable", retryable: true, retryAfterMs: undefined },
  ])("maps scenario:$scenario to $code (retryable: $retryable), in one request", async (expected) => {
    const requestsBefore = server().requests.length;
    const outcome = await run(provider(), `scenario:${expected.scenario} hi`);
    expect(outcome.error).toMatchObject({ code: expected.code, retryable: expected.retryable });
    expect(outcome.error?.retryAfterMs).toBe(expected.retryAfterMs);
    expect(outcome.usage).toHaveLength(0);
    // The SDK's own retries are off: the worker decides.
    expect(server().requests.length - requestsBefore).toBe(1);
  });

  it("keeps the text sent before a mid-stream error", async () => {
    const outcome = await run(provider(), "scenario:error-midstream hi");
    expect(outcome.text).toBe("Hello from the");
  });

  it("continues kept text as the assistant turn's start, trailing whitespace cut, none doubled", async () => {
    const first = await run(provider(), "scenario:error-midstream hi");
    const kept = `${first.text} `;
    const before = server().requests.length;
    const outcome = await run(provider(), "scenario:error-midstream hi", { attempt: 2, continueFrom: kept });
    const sent = server().requests[before]?.body as { messages: ChatTurn[] };
    expect(sent.messages.at(-1)).toEqual({ role: "assistant", content: "Hello from the" });
    expect(outcome.error).toBeUndefined();
    expect(kept + outcome.text).toBe(FAKE_REPLY);
  });

  it("maps a refused connection to a retryable model_unavailable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = createAnthropicProvider({ apiKey: "k", model: "m", baseURL: `http://127.0.0.1:${port}` });
    const outcome = await run(unreachable, "hi");
    expect(outcome.error).toMatchObject({ code: "model_unavailable", retryable: true });
  });

  it("ends a stream that goes quiet past the stall timeout with a retryable model_unavailable", async () => {
    const quiet = createAnthropicProvider({ apiKey: "k", model: "m", baseURL: server().url, stallTimeoutMs: 50 });
    const outcome = await run(quiet, "scenario:slow hi");
    expect(outcome.error).toMatchObject({ code: "model_unavailable", retryable: true });
    expect(outcome.totalMs).toBeLessThan(1000);
  });

  it("sends the configured model, stream: true and turns that alternate from the user", async () => {
    const turns: ChatTurn[] = [
      { role: "assistant", content: "Welcome!" },
      { role: "user", content: "first" },
      { role: "user", content: "second" },
      { role: "assistant", content: "partial" },
      { role: "assistant", content: "" },
      { role: "assistant", content: "rest" },
      { role: "user", content: "scenario:text third" },
    ];
    const outcome = await run(provider(), turns);
    expect(outcome.error).toBeUndefined();
    const body = server().requests.at(-1)?.body;
    expect(body).toMatchObject({
      model: "claude-test-model",
      stream: true,
      max_tokens: expect.any(Number),
      messages: [
        { role: "user", content: "first\n\nsecond" },
        { role: "assistant", content: "partial\n\nrest" },
        { role: "user", content: "scenario:text third" },
      ],
    });
  });

  it("sends the model a call asks for, and the first of `models` when it names none", async () => {
    const served = createAnthropicProvider({
      apiKey: "test-key",
      model: "claude-ignored",
      models: ["claude-first", "claude-second"],
      baseURL: server().url,
    });
    expect(served.model).toBe("claude-first");
    const chosen = served.stream({
      messages: [{ role: "user", content: "scenario:text hi" }],
      signal: new AbortController().signal,
      attempt: 1,
      model: "claude-second",
    });
    for await (const _event of chosen);
    expect(server().requests.at(-1)?.body).toMatchObject({ model: "claude-second" });
    const outcome = await run(served, "scenario:text hi");
    expect(outcome.error).toBeUndefined();
    expect(server().requests.at(-1)?.body).toMatchObject({ model: "claude-first" });
  });

  it("continues a reply with the model the call asks for", async () => {
    const served = createAnthropicProvider({
      apiKey: "k",
      model: "claude-a",
      models: ["claude-a", "claude-b"],
      baseURL: server().url,
    });
    const continued = served.stream({
      messages: [{ role: "user", content: "scenario:error-midstream hi" }],
      signal: new AbortController().signal,
      attempt: 2,
      continueFrom: "Hello from the",
      model: "claude-b",
    });
    let text = "";
    for await (const event of continued) if (event.type === "text") text += event.text;
    expect(`Hello from the${text}`).toBe(FAKE_REPLY);
    expect(server().requests.at(-1)?.body).toMatchObject({ model: "claude-b" });
  });

  // SDK 1.x sends the API key as `Authorization: Bearer <key>`; it no longer sends `x-api-key`.
  it("sends the API key the way the SDK authenticates", async () => {
    await run(provider(), "scenario:text hi");
    const headers = server().requests.at(-1)?.headers;
    expect(headers?.authorization).toBe("Bearer test-key");
    expect(headers?.["anthropic-version"]).toEqual(expect.any(String));
  });

  it("refuses, without calling the API, a conversation with no user turn", async () => {
    const requestsBefore = server().requests.length;
    const outcome = await run(provider(), [{ role: "assistant", content: "Welcome!" }]);
    expect(outcome.error).toMatchObject({ code: "bad_request", retryable: false });
    expect(server().requests.length).toBe(requestsBefore);
  });

  it("drops trailing assistant turns so the API never sees a prefill", () => {
    const turns: ChatTurn[] = [
      { role: "user", content: "q" },
      { role: "assistant", content: "a" },
    ];
    expect(toAlternatingTurns(turns)).toEqual([{ role: "user", content: "q" }]);
  });
});

describe("retryAfterMsFrom", () => {
  it("prefers retry-after-ms, then reads retry-after as seconds or as an HTTP date", () => {
    expect(retryAfterMsFrom(new Headers({ "retry-after-ms": "1500", "retry-after": "9" }))).toBe(1500);
    expect(retryAfterMsFrom(new Headers({ "retry-after": "2" }))).toBe(2000);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterMsFrom(new Headers({ "retry-after": inTenSeconds }))).toBeGreaterThan(8000);
    expect(retryAfterMsFrom(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(retryAfterMsFrom(undefined)).toBeUndefined();
  });
});

describe("createLlmProvider", () => {
  it("returns the mock provider for provider=mock", () => {
    const provider = createLlmProvider({ provider: "mock", model: "ignored" });
    expect({ name: provider.name, model: provider.model }).toEqual({ name: "mock", model: "mock-1" });
  });

  it("returns the anthropic provider with the configured model", () => {
    const provider = createLlmProvider({ provider: "anthropic", apiKey: "k", model: "claude-x" });
    expect({ name: provider.name, model: provider.model }).toEqual({ name: "anthropic", model: "claude-x" });
  });

  it("lists the anthropic models it serves, the default first, with readable labels", () => {
    const provider = createLlmProvider({
      provider: "anthropic",
      apiKey: "k",
      model: "claude-x",
      models: ["claude-sonnet-4-5", "claude-3-5-haiku-20241022"],
    });
    expect(provider.model).toBe("claude-sonnet-4-5");
    expect(provider.models()).toEqual([
      { id: "claude-sonnet-4-5", label: "Claude Sonnet 4.5", provider: "anthropic" },
      { id: "claude-3-5-haiku-20241022", label: "Claude 3.5 Haiku", provider: "anthropic" },
    ]);
    const single = createLlmProvider({ provider: "anthropic", apiKey: "k", model: "claude-x" });
    expect(single.models()).toEqual([{ id: "claude-x", label: "Claude X", provider: "anthropic" }]);
  });

  it("refuses provider=anthropic without an API key, naming the variable", () => {
    expect(() => createLlmProvider({ provider: "anthropic", model: "claude-x" })).toThrow(/ANTHROPIC_API_KEY/);
  });
});
