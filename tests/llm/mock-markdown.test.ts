import { describe, expect, it } from "vitest";
import { createMockProvider, type LlmProvider } from "@/lib/llm";
import { CLOSERS_BY_LENGTH } from "@/lib/llm/mock-phrases";
import { mockReplyText, mockReplyTokens } from "@/lib/llm/mock-text";
import { run, wordCount } from "../support/llm-run";

const QUESTIONS = [
  "How do I paginate results in Postgres?",
  "What is a good way to retry HTTP calls in Python?",
  "Why is my docker build so slow?",
  "Explain React hooks to me",
  "hi",
];
const MODELS = ["mock-1", "mock-2"] as const;
const paragraphsOf = (text: string) =>
  text.split("\n\n").filter((block) => /^[A-Z*]/.test(block) && !block.includes("\n") && !block.startsWith("|"));
const fences = (text: string) => text.match(/^```/gm)?.length ?? 0;
/** The provider with every call asking for `model`. */
const asModel = (provider: LlmProvider, model: string): LlmProvider => ({
  ...provider,
  stream: (input) => provider.stream({ ...input, model }),
});

describe("the mock's Markdown", () => {
  it("is the same text for the same message and model, every time", () => {
    for (const model of MODELS) {
      for (const question of QUESTIONS) {
        expect(mockReplyText(question, 300, model)).toBe(mockReplyText(question, 300, model));
      }
    }
  });

  it.each(MODELS)(
    "answers a typical question (%s, default length) with prose, a list and fenced code with a language",
    (model) => {
      const text = mockReplyText("How do I paginate results in Postgres?", 120, model);
      expect(text).toMatch(/^[A-Z]/);
      expect(text).toMatch(/\n```sql\n[\s\S]+\n```\n/);
      expect(text).toMatch(/^(- |1\. )/m);
      expect(text).toContain("postgres");
    },
  );

  it("picks the code's language from the question", () => {
    expect(mockReplyText("Why is my docker build so slow?", 120)).toContain("```bash\n");
    expect(mockReplyText("What is a good way to retry HTTP calls in Python?", 120)).toContain("```python\n");
    expect(mockReplyText("Explain React hooks to me", 120)).toContain("```ts\n");
  });

  it("writes about the question's words, not the /mock line's", () => {
    const text = mockReplyText("/mock tokens=200 tps=0\nHow do I paginate results in Postgres?", 200);
    expect(text).toContain("paginate");
    expect(text).not.toContain("tps");
  });

  it("has exactly N tokens for every N, ends as a sentence and leaves no code fence open", () => {
    for (const model of MODELS) {
      for (let count = 1; count <= 260; count++) {
        const message = `/mock tokens=${count}\nreply ${count % 7}`;
        const tokens = mockReplyTokens(message, count, model);
        const text = tokens.join("");
        expect(tokens).toHaveLength(count);
        expect(wordCount(text)).toBe(count);
        expect(text).toMatch(/^[A-Z].*[.!?]$/s);
        expect(fences(text) % 2).toBe(0);
      }
    }
  });

  it("goes on with more sections, a table among them, when the template runs out (tokens=2000)", () => {
    const text = mockReplyText("Tell me about message queues", 2000, "mock-2");
    expect(wordCount(text)).toBe(2000);
    expect(text.match(/^### /gm)?.length ?? 0).toBeGreaterThan(5);
    expect(fences(text)).toBeGreaterThanOrEqual(4);
    expect(text).toContain("| --- | --- | --- |");
  });

  it("writes longer paragraphs and numbered, titled steps as mock-2, for the same message", () => {
    const mean = (paragraphs: string[]) =>
      paragraphs.reduce((sum, paragraph) => sum + wordCount(paragraph), 0) / paragraphs.length;
    const fast = mockReplyText("Tell me about message queues", 1000, "mock-1");
    const thorough = mockReplyText("Tell me about message queues", 1000, "mock-2");
    expect(mean(paragraphsOf(thorough))).toBeGreaterThan(mean(paragraphsOf(fast)) * 1.4);
    expect(thorough).toMatch(/^1\. \*\*[A-Z]/m);
    expect(fast).toMatch(/^- [A-Z]/m);
  });

  it("has closing sentences of exactly the length each is filed under", () => {
    CLOSERS_BY_LENGTH.forEach((closers, index) => {
      for (const closer of closers) expect(wordCount(closer)).toBe(index + 1);
    });
  });
});

describe("the mock's continuation", () => {
  const mock = createMockProvider();

  it.each(MODELS)("gives the uninterrupted text when continued from any cut point (%s)", async (model) => {
    const provider = asModel(mock, model);
    const message = "/mock tokens=150 tps=0\nHow do I paginate results in Postgres?";
    const whole = (await run(provider, message)).text;
    expect(wordCount(whole)).toBe(150);
    // Cuts between tokens, inside a word and inside the whitespace after one.
    for (let cut = 1; cut < whole.length; cut++) {
      const kept = whole.slice(0, cut);
      const continued = await run(provider, message, { attempt: 2, continueFrom: kept });
      expect(continued.error).toBeUndefined();
      expect(kept + continued.text).toBe(whole);
    }
  });

  it.each(MODELS)(
    "fail=once: attempt 1's text and attempt 2's continuation make the whole reply (%s)",
    async (model) => {
      const provider = asModel(mock, model);
      for (const count of [2, 9, 40, 121, 400]) {
        const message = `/mock tokens=${count} tps=0 fail=once\nWrite a bash script to rotate logs`;
        const failed = await run(provider, message);
        expect(failed.error?.code).toBe("model_error");
        const continued = await run(provider, message, { attempt: 2, continueFrom: failed.text });
        expect(failed.text + continued.text).toBe(mockReplyText(message, count, model));
        expect(continued.usage[0]?.outputTokens).toBe(count - Math.floor(count / 2));
      }
    },
  );
});
