import { CLOSERS_BY_LENGTH, OPENINGS, SECTION_TITLES, SENTENCES, STEPS, TABLE_ROWS } from "./mock-phrases";
import { between, pick, pickDistinct, type Random } from "./mock-random";
import { codeBlocksFor } from "./mock-snippets";
import type { MockTopic } from "./mock-topic";

// The Markdown blocks of a mock reply (paragraphs, lists, fenced code, tables, headings), each
// drawn from one seeded random source. A block is a string that neither starts nor ends with
// whitespace; its length is counted in words, the mock's tokens.

export interface MockStyle {
  /** Sentences in the first paragraph and in later ones. */
  openingSentences: readonly [min: number, max: number];
  sentences: readonly [min: number, max: number];
  steps: readonly [min: number, max: number];
  /** "1. **Title**: text" rather than "- Text". */
  numberedSteps: boolean;
  tableChance: number;
}

export const wordCount = (text: string): number => text.match(/\S+/g)?.length ?? 0;

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export class MockWriter {
  private codeBlocks: string[];
  private codeBlocksUsed = 0;
  private headingsUsed: number;

  constructor(
    private readonly topic: MockTopic,
    private readonly style: MockStyle,
    private readonly random: Random,
  ) {
    const blocks = codeBlocksFor(topic);
    const first = Math.floor(random() * blocks.length);
    this.codeBlocks = [...blocks.slice(first), ...blocks.slice(0, first)];
    // Headings go round the titles from a seeded start, so a long reply repeats one only after all.
    this.headingsUsed = Math.floor(random() * SECTION_TITLES.length);
  }

  private fill(template: string): string {
    return template
      .replaceAll("{phrase}", `*${this.topic.phrase}*`)
      .replaceAll("{word}", () => `\`${pick(this.topic.words, this.random)}\``);
  }

  opening(): string {
    const [min, max] = this.style.openingSentences;
    const rest = pickDistinct(SENTENCES, between(min, max, this.random) - 1, this.random);
    return [pick(OPENINGS, this.random), ...rest].map((sentence) => this.fill(sentence)).join(" ");
  }

  paragraph(): string {
    const [min, max] = this.style.sentences;
    const sentences = pickDistinct(SENTENCES, between(min, max, this.random), this.random);
    return sentences.map((sentence) => this.fill(sentence)).join(" ");
  }

  /** A list of as many steps as fit in `maxWords` (at least 2), or null when 2 do not fit. */
  steps(maxWords: number): string | null {
    const [min, max] = this.style.steps;
    const items = pickDistinct(STEPS, between(min, max, this.random), this.random).map(([title, text], index) =>
      this.style.numberedSteps ? `${index + 1}. **${title}**: ${this.fill(text)}` : `- ${capitalize(this.fill(text))}`,
    );
    while (items.length > 2 && wordCount(items.join("\n")) > maxWords) items.pop();
    const list = items.join("\n");
    return wordCount(list) <= maxWords ? list : null;
  }

  /** The next code block that fits in `maxWords`, or null. */
  code(maxWords: number): string | null {
    for (let offset = 0; offset < this.codeBlocks.length; offset++) {
      const block = this.codeBlocks[(this.codeBlocksUsed + offset) % this.codeBlocks.length] ?? "";
      if (wordCount(block) <= maxWords) {
        this.codeBlocksUsed += offset + 1;
        return block;
      }
    }
    return null;
  }

  table(): string {
    const rows = pickDistinct(TABLE_ROWS, 3, this.random).map((cells) => `| ${cells.join(" | ")} |`);
    const lead = `Here is how the usual options for ${this.fill("{phrase}")} compare:`;
    return [lead, "", "| Approach | Best for | Trade-off |", "| --- | --- | --- |", ...rows].join("\n");
  }

  heading(): string {
    const title = SECTION_TITLES[this.headingsUsed++ % SECTION_TITLES.length] ?? "More";
    return `### ${title}`;
  }

  /** A paragraph of exactly `words` words (at least 1) that ends a sentence. */
  paragraphOf(words: number): string {
    const sentences: string[] = [];
    let left = words;
    while (left > 0) {
      const closers = CLOSERS_BY_LENGTH[Math.min(left, CLOSERS_BY_LENGTH.length) - 1] ?? [];
      const sentence =
        left <= CLOSERS_BY_LENGTH.length ? pick(closers, this.random) : this.fill(pick(SENTENCES, this.random));
      const length = wordCount(sentence);
      const chosen = length <= left ? sentence : pick(closers, this.random);
      sentences.push(chosen);
      left -= wordCount(chosen);
    }
    return sentences.join(" ");
  }
}
