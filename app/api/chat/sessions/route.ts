// GET /api/chat/sessions — the user's chats, most recently active first, paginated.
import { listSessions, listSessionsQuerySchema } from "@/lib/chat/sessions";
import { readQuery } from "@/lib/http/body";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const GET = withUser(async ({ request, user }) =>
  json(await listSessions(user.id, readQuery(request, listSessionsQuerySchema))),
);
