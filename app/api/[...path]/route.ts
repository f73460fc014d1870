// Any other /api path — a JSON 404, so API clients never get an HTML page.
import { AppError } from "@/lib/errors";
import { withRequest } from "@/lib/http/handler";

const notFound = withRequest<{ path: string[] }>(async () => {
  throw new AppError(404, "not_found", "There is no such endpoint.");
});

export { notFound as DELETE, notFound as GET, notFound as PATCH, notFound as POST, notFound as PUT };
