// GET /api/models — the models this deployment serves, the default first. Public, like
// /api/health: it names configuration, nothing of any user, and a client may show the picker
// before it signs in.
import { env } from "@/lib/env";
import { withRequest } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";
import { listModels, llmConfigFromEnv } from "@/lib/llm";

export const dynamic = "force-dynamic";

export const GET = withRequest(async () => json({ models: listModels(llmConfigFromEnv(env())) }));
