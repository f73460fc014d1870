import { describe, expect, it } from "vitest";
import { type ChatTurn, createMockProvider, parseMockKnobs } from "@/lib/llm";
import { mockReplyText } from "@/lib/llm/mock-text";
import { run, wordCount } from "../support/llm-run";

describe("mock provider", () => {
  const provider = createMockProvider();

  it("sends exactly tokens=N words and reports them as output tokens", async () => {
    const outcome = await run(provider, "/mock tokens=37 tps=0\nCount for me");
    expect(wordCount(outcome.text)).toBe(37);
    expect(outcome.usage[0]?.outputTokens).toBe(37);
    expect(outcome.text).toMatch(/^[A-Z].*[.!?]$/s);
  });

  it("offers mock-1 (the default) and mock-2, and sends tokens=N words as either", async () => {
    expect(provider.models()).toEqual([
      { id: "mock-1", label: "Mock (fast)", provider: "mock" },
      { id: "mock-2", label: "Mock (thorough)", provider: "mock" },
    ]);
    expect(provider.model).toBe("mock-1");
    const prompt = "/mock tokens=90 tps=0\nHow do I paginate results in Postgres?";
    const { text } = await run(provider, prompt, { model: "mock-2" });
    expect(wordCount(text)).toBe(90);
    expect(text).toBe(mockReplyText(prompt, 90, "mock-2"));
    expect((await run(provider, prompt)).text).toBe(mockReplyText(prompt, 90, "mock-1"));
    expect(text).not.toBe(mockReplyText(prompt, 90, "mock-1"));
  });

  it("writes as the default model for a model it does not serve (a reply begun elsewhere)", async () => {
    const prompt = "/mock tokens=30 tps=0\nhello";
    expect((await run(provider, prompt, { model: "claude-x" })).text).toBe(mockReplyText(prompt, 30, "mock-1"));
  });

  it("counts input tokens as whitespace-separated words across all turns", async () => {
    const turns: ChatTurn[] = [
      { role: "user", content: "one two  three" },
      { role: "assistant", content: "four five" },
      { role: "user", content: "/mock tps=0\nsix" },
    ];
    const outcome = await run(provider, turns);
    expect(outcome.usage[0]?.inputTokens).toBe(8);
  });

  it("gives different messages different replies", async () => {
    const [first, second] = await Promise.all([
      run(provider, "/mock tps=0\nfirst"),
      run(provider, "/mock tps=0\nsecond"),
    ]);
    expect(second.text).not.toBe(first.text);
  });

  it("fail=once fails mid-reply, retryable, on attempt 1 and replies in full on attempt 2", async () => {
    const prompt = "/mock tokens=20 tps=0 fail=once";
    const first = await run(provider, prompt, { attempt: 1 });
    expect(first.error).toMatchObject({ code: "model_error", retryable: true });
    expect(wordCount(first.text)).toBe(10);
    const second = await run(provider, prompt, { attempt: 2 });
    expect(second.error).toBeUndefined();
    expect(wordCount(second.text)).toBe(20);
    expect(second.text.startsWith(first.text)).toBe(true);
  });

  it("fail=always fails on every attempt", async () => {
    for (const attempt of [1, 2, 3]) {
      const outcome = await run(provider, "/mock tokens=20 tps=0 fail=always", { attempt });
      expect(outcome.error).toMatchObject({ code: "model_error", retryable: true });
    }
  });

  it("fail=429 rate-limits attempt 1 before any text, with retryAfterMs 1000, then succeeds", async () => {
    const first = await run(provider, "/mock tokens=5 tps=0 fail=429", { attempt: 1 });
    expect(first.error).toMatchObject({ code: "rate_limited", retryable: true, retryAfterMs: 1000 });
    expect(first.events).toHaveLength(0);
    const second = await run(provider, "/mock tokens=5 tps=0 fail=429", { attempt: 2 });
    expect(second.error).toBeUndefined();
  });

  it("paces tokens by tps, batching the tokens due into one event per wake-up", async () => {
    const outcome = await run(provider, "/mock tokens=30 tps=100 ttft=0");
    expect(outcome.totalMs).toBeGreaterThanOrEqual(250);
    expect(outcome.totalMs).toBeLessThan(3000);
    expect(wordCount(outcome.text)).toBe(30);
    // A token is due every 10 ms but the mock wakes at most every ~15 ms.
    expect(outcome.textEvents).toBeLessThan(30);
  });

  it("waits ttft before the first token", async () => {
    const outcome = await run(provider, "/mock tokens=3 tps=1000 ttft=300");
    expect(outcome.firstTextMs).toBeGreaterThanOrEqual(280);
  });

  it("with tps=0 sends everything at once, ttft included, in chunks of 16 tokens", async () => {
    const outcome = await run(provider, "/mock tokens=5000 tps=0 ttft=5000");
    expect(outcome.totalMs).toBeLessThan(1000);
    expect(outcome.textEvents).toBe(Math.ceil(5000 / 16));
  });

  it("keeps 1,000 concurrent paced replies on schedule", async () => {
    const startedAt = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, (_, index) => run(provider, `/mock tokens=60 tps=300 ttft=20\nreply ${index}`)),
    );
    expect(outcomes.every((outcome) => outcome.usage[0]?.outputTokens === 60)).toBe(true);
    expect(performance.now() - startedAt).toBeLessThan(2000);
  });

  describe("streamText (the text pushed, as the worker reads it)", () => {
    const input = (content: string, signal = new AbortController().signal) => ({
      messages: [{ role: "user" as const, content }],
      signal,
      attempt: 1,
    });
    const streamText = (content: string, onText: (text: string) => void, signal?: AbortSignal) => {
      if (!provider.streamText) throw new Error("the mock pushes its text");
      return provider.streamText(input(content, signal), onText);
    };

    it("pushes the same events and usage as the iterator, paced and unpaced", async () => {
      for (const prompt of ["/mock tokens=40 tps=2000 ttft=0\nSame", "/mock tokens=70 tps=0\nSame"]) {
        const pushed: string[] = [];
        const usage = await streamText(prompt, (text) => pushed.push(text));
        const read = await run(provider, prompt);
        expect(pushed.join("")).toBe(read.text);
        expect(pushed.join("")).toBe(mockReplyText(prompt, 40 + (prompt.includes("tps=0") ? 30 : 0)));
        expect(usage).toEqual({ inputTokens: read.usage[0]?.inputTokens, outputTokens: read.usage[0]?.outputTokens });
      }
    });

    it("ends with the error an onText throws, and sends nothing after it", async () => {
      const failure = new Error("store gone");
      let calls = 0;
      const ended = streamText("/mock tokens=200 tps=5000 ttft=0\nThrow", () => {
        calls++;
        if (calls === 2) throw failure;
      });
      await expect(ended).rejects.toBe(failure);
      const after = calls;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(calls).toBe(after);
    });

    it("throws cancelled once its signal aborts, keeping what it sent", async () => {
      const controller = new AbortController();
      const pushed: string[] = [];
      const ended = streamText(
        "/mock tokens=2000 tps=50 ttft=0\nStop me",
        (text) => {
          pushed.push(text);
          if (pushed.length === 2) controller.abort();
        },
        controller.signal,
      );
      await expect(ended).rejects.toMatchObject({ code: "cancelled", retryable: false });
      expect(pushed.length).toBe(2);
    });

    it("fails mid-reply with fail=once and continues the kept text on attempt 2", async () => {
      const prompt = "/mock tokens=40 tps=0 fail=once\nHalf";
      const pushed: string[] = [];
      await expect(streamText(prompt, (text) => pushed.push(text))).rejects.toMatchObject({ code: "model_error" });
      if (!provider.streamText) throw new Error("the mock pushes its text");
      const rest: string[] = [];
      const kept = pushed.join("");
      await provider.streamText({ ...input(prompt), attempt: 2, continueFrom: kept }, (text) => rest.push(text));
      expect(kept + rest.join("")).toBe(mockReplyText(prompt, 40));
    });
  });
});

describe("parseMockKnobs", () => {
  const defaults = { tokens: 120, tps: 60, ttft: 150 };

  it("gives the defaults for an ordinary message and for a bare /mock", () => {
    expect(parseMockKnobs("hello there")).toEqual(defaults);
    expect(parseMockKnobs("/mock")).toEqual(defaults);
  });

  it("reads every knob from the first line", () => {
    expect(parseMockKnobs("/mock tokens=5 tps=0 ttft=7 fail=once\nbody")).toEqual({
      tokens: 5,
      tps: 0,
      ttft: 7,
      fail: "once",
    });
    expect(parseMockKnobs("/mock fail=always").fail).toBe("always");
    expect(parseMockKnobs("/mock fail=429").fail).toBe("429");
  });

  it("clamps numbers into their bounds", () => {
    expect(parseMockKnobs("/mock tokens=0 tps=-4 ttft=999999")).toEqual({ tokens: 1, tps: 0, ttft: 60_000 });
    expect(parseMockKnobs("/mock tokens=99999999 tps=99999999").tokens).toBe(20_000);
    expect(parseMockKnobs("/mock tps=99999999").tps).toBe(100_000);
  });

  it("ignores unknown and malformed knobs", () => {
    expect(parseMockKnobs("/mock tokens=abc tps=1.5 ttft= fail=sometimes color=red loose __proto__=1")).toEqual(
      defaults,
    );
  });

  it("only reads the first line, and only when it starts with /mock", () => {
    expect(parseMockKnobs("hi\n/mock tokens=9")).toEqual(defaults);
    expect(parseMockKnobs("/mock tokens=5\n/mock tokens=9").tokens).toBe(5);
    expect(parseMockKnobs("please /mock tokens=9")).toEqual(defaults);
    expect(parseMockKnobs("/mockery tokens=9")).toEqual(defaults);
  });
});
