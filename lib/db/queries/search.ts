import "server-only";
import { and, desc, eq, sql } from "drizzle-orm";
import { type Database, prepared } from "../client";
import { chatSessions, messageEnded, messages, messageWords } from "../schema";

export interface SearchHit {
  sessionId: string;
  messageId: string;
  title: string;
  /** ts_headline's fragments, the matches between HEADLINE_START and HEADLINE_STOP. */
  headline: string;
  createdAt: Date;
}

// Control characters no message holds once the headline's input is cleaned of them: the rule
// code (lib/chat/search-text.ts) turns them into the contract's marks, so text can never pose as one.
export const HEADLINE_START = "\u0002";
export const HEADLINE_STOP = "\u0003";
const MARKS = `StartSel=${HEADLINE_START}, StopSel=${HEADLINE_STOP}`;
// A short message is its own snippet, whole; a longer one gives up to two fragments around its
// matches (fragments drop the punctuation at their edges, so they are only for what must be cut).
const WHOLE_UP_TO_CHARS = 200;
const WHOLE = `${MARKS}, HighlightAll=true`;
const FRAGMENTS = `${MARKS}, MaxWords=24, MinWords=10, ShortWord=3, MaxFragments=2, FragmentDelimiter=" … "`;

// The words asked for: websearch syntax (quotes, or, -word; never a syntax error) and AND a
// prefix of the last word (`word:*`, or '' for none: an empty tsquery changes nothing).
const tsquery = sql`(websearch_to_tsquery('english', ${sql.placeholder("words")}) && to_tsquery('english', ${sql.placeholder("prefix")}))`;

/** The search statement, with placeholders `userId`, `words`, `prefix` and `limit`. */
export function searchMessagesQuery(db: Database) {
  // The best `limit` matches first, ranked on the index's own expression (length-normalised, so a
  // long reply that names a word once ranks below a short message about it); only they get a
  // headline. Ranking parses each match's text again (the index keeps no positions): one ts_rank.
  const hits = db
    .select({
      id: messages.id,
      sessionId: messages.sessionId,
      content: messages.content,
      createdAt: messages.createdAt,
      rank: sql<number>`ts_rank(${messageWords}, ${tsquery}, 1)`.as("rank"),
    })
    .from(messages)
    .where(and(eq(messages.userId, sql.placeholder("userId")), messageEnded, sql`${messageWords} @@ ${tsquery}`))
    .orderBy(desc(sql`rank`), desc(messages.createdAt), desc(messages.id))
    .limit(sql.placeholder("limit"))
    .as("hits");
  return db
    .select({
      sessionId: hits.sessionId,
      messageId: hits.id,
      title: chatSessions.title,
      headline: sql<string>`ts_headline('english', translate(${hits.content}, ${HEADLINE_START + HEADLINE_STOP}, ''), ${tsquery},
        case when char_length(${hits.content}) <= ${WHOLE_UP_TO_CHARS} then ${WHOLE} else ${FRAGMENTS} end)`,
      createdAt: hits.createdAt,
    })
    .from(hits)
    .innerJoin(chatSessions, eq(chatSessions.id, hits.sessionId))
    .orderBy(desc(hits.rank), desc(hits.createdAt), desc(hits.id));
}

const searchMessages = prepared("search_messages", (db) => searchMessagesQuery(db));

/**
 * The user's ended messages (every branch) that hold the words, best match first. `words` and
 * `prefix` are what the query asks for (lib/chat/search-text.ts): `prefix` is `word:*` of letters
 * and digits only, or "".
 */
export async function searchMessagesByUser({
  userId,
  words,
  prefix,
  limit,
}: {
  userId: string;
  words: string;
  prefix: string;
  limit: number;
}): Promise<SearchHit[]> {
  return (await searchMessages()).execute({ userId, words, prefix, limit });
}
