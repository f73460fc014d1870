// The mock model's words: a pure function of the message, so a retried or replayed reply is
// byte-for-byte the same and tests can compare whole texts.

// One string split once, so the formatter keeps the list compact.
const VOCABULARY: readonly string[] = (
  "the a stream message reply token worker queue server client model channel signal buffer chunk " +
  "session quietly quickly always never often resumes sends reads writes waits retries answers " +
  "carries keeps each every some other small steady late early bright careful simple honest " +
  "through after before with without under over and but so then because while river lantern " +
  "orchard harbor meadow compass window garden letter thread bridge"
).split(" ");

const SENTENCE_ENDINGS = [".", ".", ".", "!", "?"] as const;

/** FNV-1a: a cheap, stable 32-bit hash of the message, used only as the PRNG seed. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: tiny, fast and good enough to pick words; Math.random cannot be seeded. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick() needs a non-empty list");
  return item;
}

/**
 * `count` tokens for a reply to `prompt`. Each token is one word plus what follows it (a space,
 * ", " or a sentence ending), so joining them gives the reply; the last token ends the sentence.
 */
export function mockReplyTokens(prompt: string, count: number): string[] {
  const random = seededRandom(hashText(prompt));
  const tokens: string[] = [];
  let sentenceLeft = 0;
  let startsSentence = true;
  for (let index = 0; index < count; index++) {
    if (sentenceLeft === 0) sentenceLeft = 6 + Math.floor(random() * 9);
    const word = pick(VOCABULARY, random);
    const text = startsSentence ? word.charAt(0).toUpperCase() + word.slice(1) : word;
    sentenceLeft -= 1;
    const isLast = index === count - 1;
    if (sentenceLeft === 0 || isLast) {
      const ending = pick(SENTENCE_ENDINGS, random);
      tokens.push(isLast ? `${text}${ending}` : `${text}${ending} `);
      sentenceLeft = 0;
      startsSentence = true;
    } else {
      tokens.push(random() < 0.08 ? `${text}, ` : `${text} `);
      startsSentence = false;
    }
  }
  return tokens;
}
