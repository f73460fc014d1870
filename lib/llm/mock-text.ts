import { type MockStyle, MockWriter, wordCount } from "./mock-markdown";
import { hashText, pick, type Random, seededRandom } from "./mock-random";
import { topicOf } from "./mock-topic";

// The mock model's reply: Markdown that is a pure function of the message, the model and the
// length, so a retried or replayed reply is byte-for-byte the same and tests can compare whole
// texts. A token is one whitespace-separated word with the whitespace after it.

// Fast: a short answer, a snippet, a few bullets.
const FAST: MockStyle = {
  openingSentences: [2, 2],
  sentences: [2, 3],
  steps: [3, 4],
  numberedSteps: false,
  tableChance: 0.35,
};
// Thorough: longer paragraphs, numbered steps with titles, a table more often.
const THOROUGH: MockStyle = {
  openingSentences: [3, 4],
  sentences: [4, 6],
  steps: [4, 6],
  numberedSteps: true,
  tableChance: 0.65,
};

/** The mock's models (the first is the default) and how each writes. */
export const MOCK_MODEL_STYLES = new Map<string, { label: string; style: MockStyle }>([
  ["mock-1", { label: "Mock (fast)", style: FAST }],
  ["mock-2", { label: "Mock (thorough)", style: THOROUGH }],
]);
export const DEFAULT_MOCK_MODEL = "mock-1";

type BlockKind = "opening" | "paragraph" | "steps" | "code" | "table" | "heading";

/** The reply's outline: an answer (text, code, steps, maybe a table), then sections for ever. */
function* outline(style: MockStyle, random: Random): Generator<BlockKind> {
  yield* ["opening", "code", "steps"] as const;
  if (random() < style.tableChance) yield "table";
  yield "paragraph";
  for (;;) {
    yield* ["heading", "paragraph", pick(["steps", "code", "table"] as const, random)] as const;
    if (random() < 0.5) yield "paragraph";
  }
}

// A heading needs room for a paragraph under it.
const MIN_WORDS_UNDER_HEADING = 15;

/**
 * The blocks that fill exactly `budget` words, or null when `kind` does not fit. Prose may use
 * the budget up; anything else must leave a word for the closing sentence, so a reply always
 * ends as prose.
 */
function build(writer: MockWriter, kind: BlockKind, budget: number): string | null {
  const fits = (block: string) => (wordCount(block) <= budget ? block : null);
  switch (kind) {
    case "opening":
      return fits(writer.opening());
    case "paragraph":
      return fits(writer.paragraph());
    case "steps":
      return writer.steps(budget - 1);
    case "code":
      return writer.code(budget - 1);
    case "table": {
      const table = writer.table();
      return wordCount(table) < budget ? table : null;
    }
    case "heading":
      return budget > MIN_WORDS_UNDER_HEADING ? writer.heading() : null;
  }
}

/** The reply to `message` by `model` in `count` words, as Markdown. */
export function mockReplyText(message: string, count: number, model: string = DEFAULT_MOCK_MODEL): string {
  // A model the mock does not know (a reply begun by another provider) writes as the default.
  const known = MOCK_MODEL_STYLES.has(model) ? model : DEFAULT_MOCK_MODEL;
  const style = MOCK_MODEL_STYLES.get(known)?.style ?? FAST;
  const random = seededRandom(hashText(`${known}\n${message}`));
  const writer = new MockWriter(topicOf(message, random), style, random);
  const blocks: string[] = [];
  let left = count;
  for (const kind of outline(style, random)) {
    if (left <= 0) break;
    const block = build(writer, kind, left);
    // What does not fit is replaced by a closing paragraph of exactly the words left.
    const chosen = block ?? writer.paragraphOf(left);
    blocks.push(chosen);
    left -= wordCount(chosen);
    if (block === null) break;
  }
  return blocks.join("\n\n");
}

/** `count` tokens of the reply to `message`; joined, they are `mockReplyText`. */
export function mockReplyTokens(message: string, count: number, model: string = DEFAULT_MOCK_MODEL): string[] {
  return mockReplyText(message, count, model).match(/\S+\s*/g) ?? [];
}
