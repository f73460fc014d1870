// GET /api/chat/stream — every reply of the user on one SSE connection.
import { cursorsFromRequest } from "@/lib/chat/cursor";
import { sseResponse } from "@/lib/chat/sse-response";
import { withUser } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

export const GET = withUser(async ({ request, user }) =>
  sseResponse(request, { kind: "user", userId: user.id }, cursorsFromRequest(request, true)),
);
