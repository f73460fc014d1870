// POST /api/chat/cancel/:sessionId/:messageId — stop a reply, keeping its partial text.
import { cancelReply } from "@/lib/chat/replies";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const POST = withUser<{ sessionId: string; messageId: string }>(async ({ user, params }) =>
  json(await cancelReply(user.id, params.sessionId, params.messageId), 202),
);
