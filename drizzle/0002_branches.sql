ALTER TABLE "chat_sessions" ADD COLUMN "system_prompt" text;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "active_leaf_id" uuid;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "parent_id" uuid;--> statement-breakpoint
-- Every message sent before branches existed follows the one before it in its chat (a reply its
-- user message); the visible branch ends at each chat's last message.
UPDATE "messages" m SET "parent_id" = coalesce(m."in_reply_to", p.prev)
FROM (
  SELECT "id", lag("id") OVER (PARTITION BY "session_id" ORDER BY "ord") AS prev FROM "messages"
) p
WHERE p."id" = m."id" AND m."parent_id" IS NULL;--> statement-breakpoint
UPDATE "chat_sessions" s SET "active_leaf_id" = (
  SELECT m."id" FROM "messages" m WHERE m."session_id" = s."id" ORDER BY m."ord" DESC LIMIT 1
) WHERE s."active_leaf_id" IS NULL;
