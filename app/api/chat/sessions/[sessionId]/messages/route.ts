// GET /api/chat/sessions/:sessionId/messages — every message of every branch, and the visible branch's end.
import { listSessionMessages } from "@/lib/chat/sessions";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const GET = withUser<{ sessionId: string }>(async ({ user, params }) =>
  json(await listSessionMessages(user.id, params.sessionId)),
);
