// POST /api/chat/messages — store a message, queue its reply, answer 202 at once.
// A pages/api route, like the streams: the send is the busiest request, and Node's own request and
// response cost it less than an App Router Request/Response pair (docs/benchmarks.md).
import { sendMessage, sendMessageSchema } from "@/lib/chat/send";
import { toAppError } from "@/lib/errors";
import { readNodeJson } from "@/lib/http/body";
import { withNodeUser } from "@/lib/http/node-handler";
import { JSON_HEADERS } from "@/lib/http/respond";
import { metrics } from "@/lib/metrics";
import { traceTurnRequest } from "@/lib/tracing/index";

export const config = { api: { bodyParser: false } };

const ROUTE_ATTRIBUTES = { "http.request.method": "POST", "http.route": "/api/chat/messages" };

export default withNodeUser(
  [],
  ({ req, res, user, correlationId, address }) =>
    traceTurnRequest("POST /api/chat/messages", correlationId, ROUTE_ATTRIBUTES, async () => {
      const stopTimer = metrics().sendLatency.startTimer();
      try {
        const input = await readNodeJson(req, sendMessageSchema);
        const result = await sendMessage(user.id, input, correlationId, address);
        metrics().sendsAccepted.inc();
        res.writeHead(202, JSON_HEADERS).end(JSON.stringify(result));
      } catch (error) {
        metrics().sendsRefused.inc({ code: toAppError(error).code });
        throw error;
      } finally {
        stopTimer();
      }
    }),
  ["POST"],
);
