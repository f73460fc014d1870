// GET /api/chat/status/:sessionId/:messageId — one reply's status and text so far.
import { getReplyStatus } from "@/lib/chat/replies";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const GET = withUser<{ sessionId: string; messageId: string }>(async ({ user, params }) =>
  json(await getReplyStatus(user.id, params.sessionId, params.messageId)),
);
