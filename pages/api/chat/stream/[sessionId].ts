// GET /api/chat/stream/:sessionId — the replies of one session over SSE; 204 when there is nothing.
// A pages/api route so that each event is a plain write on Node's response (see lib/sse/sse-response.ts).

import { withNodeUser } from "@/lib/http/node-handler";
import { cursorsOf } from "@/lib/sse/cursor";
import { streamReplies } from "@/lib/sse/sse-response";

export const config = { api: { bodyParser: false, externalResolver: true, responseLimit: false }, maxDuration: 300 };

export default withNodeUser(["sessionId"], async ({ res, user, params, query, lastEventId }) => {
  const sessionId = params.sessionId ?? "";
  await streamReplies(res, { kind: "session", sessionId, userId: user.id }, cursorsOf(lastEventId, query, false));
});
