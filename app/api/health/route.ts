// GET /api/health — mode and the state of the database, Redis and the worker.
import { withRequest } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";
import { healthReport } from "@/lib/ops/health";

export const dynamic = "force-dynamic";

export const GET = withRequest(async () => {
  const { status, body } = await healthReport();
  return json(body, status);
});
