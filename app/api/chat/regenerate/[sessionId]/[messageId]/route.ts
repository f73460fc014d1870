// POST /api/chat/regenerate/:sessionId/:userMessageId — a new reply beside the earlier ones.
import { regenerateReply, regenerateSchema } from "@/lib/chat/send";
import { readJson } from "@/lib/http/body";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const POST = withUser<{ sessionId: string; messageId: string }>(
  async ({ request, user, params, correlationId }) => {
    const input = await readJson(request, regenerateSchema);
    return json(await regenerateReply(user.id, params.sessionId, params.messageId, input, correlationId), 202);
  },
);
