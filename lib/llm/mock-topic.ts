import { messageBody } from "./mock-knobs";
import { pick, type Random } from "./mock-random";

// What a mock reply is about: a few words of the question and a language for its code, so
// "How do I page through a Postgres table?" gets SQL about `page_postgres`, not word salad.

export type CodeLanguage = "ts" | "python" | "sql" | "bash";

export interface MockTopic {
  /** Up to three words of the question, e.g. "postgres table". */
  phrase: string;
  /** Each word of the phrase, for sentences that name one thing. */
  words: readonly string[];
  /** The phrase as identifiers for code: camel `postgresTable`, Pascal, snake and kebab. */
  camel: string;
  pascal: string;
  snake: string;
  kebab: string;
  language: CodeLanguage;
}

const STOPWORDS = new Set(
  (
    "able about above after again all also and any anything are because best better been before being below between both but can " +
    "could describe did difference does doing done down each example explain few for from further get gets getting give good had has have having " +
    "hello help her here hey hers him his how i into its just know let like make many may more most much must need not " +
    "now off once only other our out over own please same she should show some something such tell thanks than that the " +
    "their them then there these they thing things this those through too under until use using very want was way " +
    "were what when where which while who whom why will with without would write you your yours"
  ).split(" "),
);

const LANGUAGE_HINTS: Array<{ language: CodeLanguage; pattern: RegExp }> = [
  { language: "sql", pattern: /\b(sql|postgres\w*|mysql|sqlite|database|query|queries|tables?|index|joins?|schema)\b/ },
  { language: "python", pattern: /\b(python|pandas|django|flask|numpy|pip|pytest|jupyter)\b/ },
  { language: "bash", pattern: /\b(bash|shell|scripts?|cli|terminal|linux|docker|git|deploy\w*|curl|ssh|cron)\b/ },
  { language: "ts", pattern: /\b(typescript|javascript|ts|js|react|node|next(js)?|npm|frontend|components?|hooks?)\b/ },
];

const FALLBACK_PHRASES = ["background jobs", "caching", "retries", "streaming replies", "this setup"];
const LANGUAGES: readonly CodeLanguage[] = ["ts", "python", "sql", "bash"];

/** The topic of `message` (its `/mock` line left out); `random` breaks ties for a vague one. */
export function topicOf(message: string, random: Random): MockTopic {
  const body = messageBody(message).toLowerCase();
  const words = (body.match(/[a-z][a-z0-9]*/g) ?? []).filter((word) => word.length >= 3 && !STOPWORDS.has(word));
  const unique = [...new Set(words)].slice(0, 3);
  const chosen = unique.length > 0 ? unique : pick(FALLBACK_PHRASES, random).split(" ");
  const named = chosen.slice(0, 2);
  const capitalized = named.map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  const hint = LANGUAGE_HINTS.find((candidate) => candidate.pattern.test(body));
  return {
    phrase: chosen.join(" "),
    words: chosen,
    camel: (named[0] ?? "item") + capitalized.slice(1).join(""),
    pascal: capitalized.join(""),
    snake: named.join("_"),
    kebab: named.join("-"),
    language: hint?.language ?? pick(LANGUAGES, random),
  };
}
