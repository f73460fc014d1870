import { z } from "zod";

// Test and demo knobs for the mock model, read from the first line of the message being answered:
// "/mock tokens=400 tps=0 fail=once". A knob that is missing, malformed or unknown falls back to its
// default instead of failing the reply: the line is typed by humans in a chat box.

const MOCK_PREFIX = /^\/mock(?:\s|$)/;

/** A whole number, clamped into [min, max]; anything else (3.5, "12x", "") gives the fallback. */
const clampedIntSchema = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^-?\d+$/)
    .transform((digits) => Math.min(max, Math.max(min, Number(digits))))
    .catch(fallback);

export const mockKnobsSchema = z.object({
  tokens: clampedIntSchema(1, 20_000, 120),
  /** Tokens per second; 0 means no pacing at all. */
  tps: clampedIntSchema(0, 100_000, 60),
  /** Delay before the first token, in ms. */
  ttft: clampedIntSchema(0, 60_000, 150),
  fail: z.enum(["once", "always", "429"]).optional().catch(undefined),
});

export type MockKnobs = z.infer<typeof mockKnobsSchema>;

/** The knobs a message asks for; the defaults when its first line does not start with `/mock`. */
export function parseMockKnobs(text: string): MockKnobs {
  const firstLine = (text.split(/\r?\n/, 1)[0] ?? "").trim();
  // A Map, not an object literal, so a word like `__proto__=x` is just an unknown key.
  const pairs = new Map<string, string>();
  if (MOCK_PREFIX.test(firstLine)) {
    for (const word of firstLine.split(/\s+/).slice(1)) {
      const separator = word.indexOf("=");
      if (separator > 0) pairs.set(word.slice(0, separator), word.slice(separator + 1));
    }
  }
  return mockKnobsSchema.parse(Object.fromEntries(pairs));
}

/** The message without its `/mock` line: what the mock's reply is about. */
export function messageBody(text: string): string {
  const [firstLine = "", ...rest] = text.split(/\r?\n/);
  return MOCK_PREFIX.test(firstLine.trim()) ? rest.join("\n") : text;
}
