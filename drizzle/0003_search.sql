-- Search (GET /api/chat/search): the words of every ended message, stemmed ('english'). Partial, so
-- a running reply's checkpoints never compute a tsvector; its text is indexed once, when it ends.
-- Building it holds writes to "messages" back until it is done (seconds per million messages).
CREATE INDEX "messages_search_idx" ON "messages" USING gin (to_tsvector('english', "content")) WHERE "messages"."status" in ('completed', 'error', 'cancelled');
