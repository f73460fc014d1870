// The text rules of search, pure: what a query asks the database for, and how ts_headline's
// fragments become the contract's snippet (docs/api.md, Search).
import { SNIPPET_MARK_END, SNIPPET_MARK_START } from "../contract";

export interface SearchTerms {
  /** Text for websearch_to_tsquery: words, "quoted phrases", or, -word. */
  words: string;
  /** `word:*` for to_tsquery, or "" for none. */
  prefix: string;
}

// A last word of letters and digits only: to_tsquery cannot fail on `word:*` made of it.
const LAST_WORD = /(^|\s)([\p{L}\p{N}]+)$/u;

/**
 * The last word also matches as a prefix, so results come while it is typed ("post" finds
 * "Postgres"). Not inside an open quote (a phrase being typed) nor after `or` (where AND
 * would change the question).
 */
export function searchTermsOf(query: string): SearchTerms {
  const match = LAST_WORD.exec(query);
  const word = match?.[2];
  if (!match || !word) return { words: query, prefix: "" };
  const head = query.slice(0, match.index + (match[1]?.length ?? 0));
  const openQuote = (head.match(/"/g)?.length ?? 0) % 2 === 1;
  if (openQuote || /(^|\s)or\s*$/i.test(head)) return { words: query, prefix: "" };
  return { words: head, prefix: `${word}:*` };
}

// Markdown a reply is written in, which reads as noise in one line of text.
const LINE_MARKS = /^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+|```\S*[ \t]*$)/gm;
const TABLE_RULE = /^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$/gm;
// Bold and code marks anywhere; a single * only where it opens or closes emphasis (not 2 * 3).
const INLINE_MARKS = /\*\*|__|`+|(?<=^|[\s(])\*(?=\S)|(?<=\S)\*(?=$|[\s.,;:!?)])/g;

/**
 * ts_headline's output (matches between `start` and `stop`, characters the text cannot hold) as
 * one line of plain text with the contract's marks. A « or » of the text becomes ‹ or ›, so every
 * mark in a snippet is one the server put there.
 */
export function snippetOf(headline: string, start: string, stop: string): string {
  return headline
    .replace(TABLE_RULE, " ")
    .replace(LINE_MARKS, " ")
    .replace(INLINE_MARKS, "")
    .replaceAll("|", " ")
    .replaceAll(SNIPPET_MARK_START, "‹")
    .replaceAll(SNIPPET_MARK_END, "›")
    .replaceAll(start, SNIPPET_MARK_START)
    .replaceAll(stop, SNIPPET_MARK_END)
    .replace(/\s+/g, " ")
    .trim();
}
