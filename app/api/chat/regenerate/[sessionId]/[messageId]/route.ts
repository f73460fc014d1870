// POST /api/chat/regenerate/:sessionId/:userMessageId — a new reply beside the earlier ones.
import { regenerateReply, regenerateSchema } from "@/lib/chat/send";
import { env } from "@/lib/env";
import { readJson } from "@/lib/http/body";
import { addressOfRequest } from "@/lib/http/client-address";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const POST = withUser<{ sessionId: string; messageId: string }>(
  async ({ request, user, params, correlationId }) => {
    const input = await readJson(request, regenerateSchema);
    const address = addressOfRequest(request, env().TRUST_PROXY);
    const reply = await regenerateReply(user.id, params.sessionId, params.messageId, input, correlationId, address);
    return json(reply, 202);
  },
);
