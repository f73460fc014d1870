// GET /api/chat/stream/:sessionId — the replies of one session over SSE; 204 when there is nothing.
import { cursorsFromRequest } from "@/lib/chat/cursor";
import { requireSession } from "@/lib/chat/sessions";
import { sseResponse } from "@/lib/chat/sse-response";
import { withUser } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

export const GET = withUser<{ sessionId: string }>(async ({ request, user, params }) => {
  await requireSession(user.id, params.sessionId);
  return sseResponse(
    request,
    { kind: "session", sessionId: params.sessionId, userId: user.id },
    cursorsFromRequest(request, false),
  );
});
