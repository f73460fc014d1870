// POST /api/auth/guest — create a guest user and sign the browser in as it. A pages/api route so
// that the limit per client address sees the connection's own peer (the App Router hides it).
import { createGuestSession } from "@/lib/auth/guest";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { withNodeRequest } from "@/lib/http/node-handler";
import { JSON_HEADERS } from "@/lib/http/respond";

export const config = { api: { bodyParser: false } };

export default withNodeRequest(["POST"], async ({ req, res, address }) => {
  if (env().AUTH_GUEST === "off") throw new AppError(404, "not_found", "Guest sign-in is turned off.");
  const proto = (req.headers["x-forwarded-proto"] as string | undefined) ?? "http";
  const { user, cookie } = await createGuestSession({ secure: proto === "https", address });
  const parts = [`${cookie.name}=${cookie.value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${cookie.maxAge}`];
  if (cookie.secure) parts.push("Secure");
  req.resume();
  res.writeHead(200, { ...JSON_HEADERS, "Set-Cookie": parts.join("; ") }).end(JSON.stringify({ user }));
});
