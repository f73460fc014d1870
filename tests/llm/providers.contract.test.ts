import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnthropicProvider, createMockProvider, type LlmProvider } from "@/lib/llm";
import { startFakeAnthropic } from "../support/fake-anthropic";
import { run } from "../support/llm-run";

// One contract, run against every LlmProvider: the mock, and the real Anthropic SDK talking real
// HTTP to a fake of the API. Provider-specific behaviour lives in mock-provider.test.ts and
// anthropic-provider.test.ts.

interface ContractSubject {
  provider: LlmProvider;
  /** A prompt with a short, complete reply, one whose reply lasts many seconds, one that fails mid-reply once. */
  prompts: { reply: string; slow: string; failsOnce: string };
  stop(): Promise<void>;
}

const subjects: Array<{ name: string; start(): Promise<ContractSubject> }> = [
  {
    name: "mock",
    start: async () => ({
      provider: createMockProvider(),
      prompts: {
        reply: "/mock tokens=40 tps=2000 ttft=5\nHello there",
        slow: "/mock tokens=2000 tps=50 ttft=0\nTake your time",
        failsOnce: "/mock tokens=40 tps=2000 ttft=5 fail=once\nHello there",
      },
      stop: async () => {},
    }),
  },
  {
    name: "anthropic (real SDK, fake API on loopback)",
    start: async () => {
      const fake = await startFakeAnthropic();
      return {
        provider: createAnthropicProvider({ apiKey: "test-key", model: "claude-test-model", baseURL: fake.url }),
        prompts: {
          reply: "scenario:text Hello there",
          slow: "scenario:slow Take your time",
          failsOnce: "scenario:error-midstream Hello there",
        },
        stop: () => fake.close(),
      };
    },
  },
];

describe.each(subjects)("LlmProvider contract: $name", (subjectCase) => {
  let subject: ContractSubject | undefined;
  beforeAll(async () => {
    subject = await subjectCase.start();
  });
  afterAll(async () => {
    await subject?.stop();
  });
  const current = (): ContractSubject => {
    if (!subject) throw new Error("the subject did not start");
    return subject;
  };

  it("streams non-empty text, then ends with exactly one usage event with positive counts", async () => {
    const { provider, prompts } = current();
    const outcome = await run(provider, prompts.reply);
    expect(outcome.error).toBeUndefined();
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(outcome.usage).toHaveLength(1);
    expect(outcome.events.at(-1)?.type).toBe("usage");
    expect(outcome.usage[0]?.inputTokens).toBeGreaterThan(0);
    expect(outcome.usage[0]?.outputTokens).toBeGreaterThan(0);
  });

  it("gives the same text for the same input", async () => {
    const { provider, prompts } = current();
    const [first, second] = await Promise.all([run(provider, prompts.reply), run(provider, prompts.reply)]);
    expect(second.text).toBe(first.text);
  });

  it("continues the text a failed attempt kept: kept + continuation is the unfailed reply", async () => {
    const { provider, prompts } = current();
    const failed = await run(provider, prompts.failsOnce);
    expect(failed.error?.retryable).toBe(true);
    expect(failed.text.length).toBeGreaterThan(0);
    const continued = await run(provider, prompts.failsOnce, { attempt: 2, continueFrom: failed.text });
    expect(continued.error).toBeUndefined();
    const whole = await run(provider, prompts.reply);
    // The Anthropic fake answers every prompt with the same text, the mock's text follows the prompt.
    const expected =
      subjectCase.name === "mock" ? (await run(provider, prompts.failsOnce, { attempt: 2 })).text : whole.text;
    expect(failed.text + continued.text).toBe(expected);
  });

  it("ends within 1 s of an abort mid-stream with a non-retryable cancelled error", async () => {
    const { provider, prompts } = current();
    const controller = new AbortController();
    let abortScheduled = false;
    let abortedAt: number | undefined;
    const outcome = await run(provider, prompts.slow, {
      signal: controller.signal,
      onText: () => {
        if (abortScheduled) return;
        abortScheduled = true;
        // Abort a little after the first text, while the reply is still streaming.
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort();
        }, 50);
      },
    });
    const endedAt = performance.now();
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(outcome.error?.code).toBe("cancelled");
    expect(outcome.error?.retryable).toBe(false);
    expect(outcome.usage).toHaveLength(0);
    if (abortedAt === undefined) throw new Error("the abort never fired");
    expect(endedAt - abortedAt).toBeLessThan(1000);
  });

  it("fails with cancelled, sending nothing, when the signal is already aborted", async () => {
    const { provider, prompts } = current();
    const outcome = await run(provider, prompts.reply, { signal: AbortSignal.abort() });
    expect(outcome.error?.code).toBe("cancelled");
    expect(outcome.events).toHaveLength(0);
  });
});
