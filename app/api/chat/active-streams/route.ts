// GET /api/chat/active-streams — every queued or generating reply of the user.
import { listActiveStreams } from "@/lib/chat/replies";
import { withUser } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const GET = withUser(async ({ user }) => json({ streams: await listActiveStreams(user.id) }));
