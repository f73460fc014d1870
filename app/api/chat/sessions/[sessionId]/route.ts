// PATCH /api/chat/sessions/:sessionId — title, system prompt, visible branch; DELETE — delete the chat and stop its replies.
import { deleteUserSession, updateSessionSchema, updateUserSession } from "@/lib/chat/sessions";
import { readJson } from "@/lib/http/body";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const PATCH = withUser<{ sessionId: string }>(async ({ request, user, params }) => {
  const input = await readJson(request, updateSessionSchema);
  return json(await updateUserSession(user.id, params.sessionId, input));
});

export const DELETE = withUser<{ sessionId: string }>(async ({ user, params }) => {
  await deleteUserSession(user.id, params.sessionId);
  return new Response(null, { status: 204 });
});
