// GET /api/chat/sessions/:sessionId/messages — the chat's messages in order.
import { listSessionMessages } from "@/lib/chat/sessions";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const GET = withUser<{ sessionId: string }>(async ({ user, params }) =>
  json({ messages: await listSessionMessages(user.id, params.sessionId) }),
);
