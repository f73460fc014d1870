// GET /api/chat/stream — every reply of the user on one SSE connection.
// A pages/api route so that each event is a plain write on Node's response (see lib/sse/sse-response.ts).

import { withNodeUser } from "@/lib/http/node-handler";
import { cursorsOf } from "@/lib/sse/cursor";
import { streamReplies } from "@/lib/sse/sse-response";

export const config = { api: { bodyParser: false, externalResolver: true, responseLimit: false }, maxDuration: 300 };

export default withNodeUser([], async ({ res, user, query, lastEventId }) => {
  await streamReplies(res, { kind: "user", userId: user.id }, cursorsOf(lastEventId, query, true));
});
