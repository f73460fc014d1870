// PATCH /api/chat/sessions/:sessionId — rename; DELETE — delete the chat and stop its replies.
import { deleteUserSession, renameSessionSchema, renameUserSession } from "@/lib/chat/sessions";
import { readJson } from "@/lib/http/body";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const PATCH = withUser<{ sessionId: string }>(async ({ request, user, params }) => {
  const { title } = await readJson(request, renameSessionSchema);
  return json(await renameUserSession(user.id, params.sessionId, title));
});

export const DELETE = withUser<{ sessionId: string }>(async ({ user, params }) => {
  await deleteUserSession(user.id, params.sessionId);
  return new Response(null, { status: 204 });
});
