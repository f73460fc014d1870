// POST /api/chat/regenerate/:sessionId/:userMessageId — a new reply beside the earlier ones.
import { regenerateReply, regenerateSchema } from "@/lib/chat/send";
import { env } from "@/lib/env";
import { readJson } from "@/lib/http/body";
import { addressOfRequest } from "@/lib/http/client-address";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";
import { traceTurnRequest } from "@/lib/tracing/index";

const ROUTE_ATTRIBUTES = {
  "http.request.method": "POST",
  "http.route": "/api/chat/regenerate/[sessionId]/[messageId]",
};

export const POST = withUser<{ sessionId: string; messageId: string }>(({ request, user, params, correlationId }) =>
  traceTurnRequest("POST /api/chat/regenerate", correlationId, ROUTE_ATTRIBUTES, async () => {
    const input = await readJson(request, regenerateSchema);
    const address = addressOfRequest(request, env().TRUST_PROXY);
    const reply = await regenerateReply(user.id, params.sessionId, params.messageId, input, correlationId, address);
    return json(reply, 202);
  }),
);
