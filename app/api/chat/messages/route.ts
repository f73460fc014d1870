// POST /api/chat/messages — store a message, queue its reply, answer 202 at once.
import { sendMessage, sendMessageSchema } from "@/lib/chat/send";
import { AppError } from "@/lib/errors";
import { readJson } from "@/lib/http/body";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";
import { metrics } from "@/lib/metrics";

export const POST = withUser(async ({ request, user, correlationId }) => {
  const stopTimer = metrics().sendLatency.startTimer();
  try {
    const input = await readJson(request, sendMessageSchema);
    const result = await sendMessage(user.id, input, correlationId);
    metrics().sendsAccepted.inc();
    return json(result, 202);
  } catch (error) {
    metrics().sendsRefused.inc({ code: error instanceof AppError ? error.code : "internal_error" });
    throw error;
  } finally {
    stopTimer();
  }
});
