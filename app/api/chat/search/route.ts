// GET /api/chat/search?q=&limit= — the user's own messages that hold the words, best match first.
import { searchQuerySchema, searchUserMessages } from "@/lib/chat/search";
import { readQuery } from "@/lib/http/body";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const GET = withUser(async ({ request, user }) =>
  json(await searchUserMessages(user.id, readQuery(request, searchQuerySchema))),
);
