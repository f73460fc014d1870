// The mock model's English: sentence templates, list steps, table rows and short closers.
// `{phrase}` is the question's topic, `{word}` one word of it (see mock-topic.ts).

export const OPENINGS = [
  "Here is a practical way to approach {phrase}.",
  "Good question: {phrase} is simpler than it first looks.",
  "The short answer is that {phrase} works best when you keep the moving parts small.",
  "There are a few ways to handle {phrase}, and the right one depends on your constraints.",
  "Let's walk through {phrase} step by step.",
  "A common approach to {phrase} is to start small and grow it once it works.",
] as const;

export const SENTENCES = [
  "Start by looking at how {word} is used today, then change one thing at a time.",
  "Most problems with {word} come from hidden state, so make that state explicit.",
  "A good first step is a tiny example that shows the behaviour you expect.",
  "Once that works, measure it before you optimise anything.",
  "If {word} has to scale, batch the work and keep every step idempotent.",
  "Keep the configuration in one place so the next person can find it.",
  "It also helps to log the inputs and the outputs at the boundary.",
  "The example below is deliberately small, so adapt the names to your code.",
  "Errors are part of the design, not an afterthought, so decide early how {word} fails.",
  "When in doubt, prefer the boring solution that your team already understands.",
  "A test that fails for the right reason is worth more than a long explanation.",
  "You can always add caching later, but removing it is much harder.",
  "Watch the edge cases: empty input, very large input and input that arrives twice.",
  "With {phrase}, the simplest version is usually fast enough for a long time.",
  "Write down what {word} should do in one sentence before you write any code.",
  "That keeps the change easy to review and easy to roll back.",
] as const;

/** Exactly 1 to 8 words each: the end of a reply that must stop at a given length. */
export const CLOSERS_BY_LENGTH: readonly (readonly string[])[] = [
  ["Done.", "Enjoy!"],
  ["That's all.", "Good luck!"],
  ["Hope that helps.", "That should work."],
  ["Let me know more.", "Happy to go further."],
  ["Ask if anything is unclear.", "That covers the main points."],
  ["Let me know how it goes.", "Tell me if you get stuck."],
  ["I can expand on any of these.", "Try it and see what breaks first."],
  ["If you share more, I can help further.", "Start there and adjust with real numbers later."],
];

export const STEPS: ReadonlyArray<readonly [title: string, text: string]> = [
  ["Reproduce it", "find the smallest input that shows the behaviour of {word}."],
  ["Write a test", "make it fail for the right reason before changing anything."],
  ["Keep one source of truth", "put the settings for {word} in one module."],
  ["Log the boundary", "record what goes in and what comes out."],
  ["Measure", "compare the numbers before and after the change."],
  ["Handle failure", "decide what happens when {word} times out or returns nothing."],
  ["Clean up", "remove the code paths you no longer need."],
  ["Document it", "leave a short note on why {phrase} works the way it does."],
];

export const TABLE_ROWS: ReadonlyArray<readonly [approach: string, bestFor: string, tradeOff: string]> = [
  ["A simple loop", "small inputs", "slow on large data"],
  ["Batching", "steady throughput", "more latency per item"],
  ["A cache", "repeated reads", "stale values"],
  ["An index", "frequent lookups", "slower writes"],
  ["A queue", "bursty load", "more moving parts"],
  ["Streaming", "long outputs", "harder error handling"],
  ["Retries with backoff", "flaky networks", "duplicate work unless idempotent"],
];

export const SECTION_TITLES = [
  "Going further",
  "Common pitfalls",
  "Testing it",
  "Performance notes",
  "Edge cases",
  "A second example",
  "Putting it together",
  "In production",
] as const;
