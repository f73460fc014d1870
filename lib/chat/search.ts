import "server-only";
import { z } from "zod";
import type { SearchResult } from "../contract";
import { HEADLINE_START, HEADLINE_STOP, searchMessagesByUser } from "../db/queries";
import { searchTermsOf, snippetOf } from "./search-text";

export const MAX_SEARCH_QUERY_CHARS = 200;

export const searchQuerySchema = z.object({
  q: z
    .string({ error: "is required" })
    .trim()
    .min(1, "must not be empty")
    .refine((q) => [...q].length <= MAX_SEARCH_QUERY_CHARS, `must be at most ${MAX_SEARCH_QUERY_CHARS} characters`)
    .refine((q) => !q.includes("\u0000"), "must not contain a NUL character"),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export type SearchQuery = z.infer<typeof searchQuerySchema>;

/**
 * The user's own messages that hold the words, best match first: every branch, user messages and
 * ended replies (a reply being written is found once it ends). A query of stop words only ("the")
 * asks for nothing and finds nothing.
 */
export async function searchUserMessages(userId: string, query: SearchQuery): Promise<{ results: SearchResult[] }> {
  const terms = searchTermsOf(query.q);
  const hits = await searchMessagesByUser({ userId, ...terms, limit: query.limit });
  return {
    results: hits.map((hit) => ({
      sessionId: hit.sessionId,
      messageId: hit.messageId,
      title: hit.title,
      snippet: snippetOf(hit.headline, HEADLINE_START, HEADLINE_STOP),
      createdAt: hit.createdAt.toISOString(),
    })),
  };
}
