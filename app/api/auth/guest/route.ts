// POST /api/auth/guest — create a guest user and sign the browser in as it.
import { createGuestSession } from "@/lib/auth/guest";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { withRequest } from "@/lib/http/handler";
import { json } from "@/lib/http/respond";

export const POST = withRequest(async ({ request }) => {
  if (env().AUTH_GUEST === "off") throw new AppError(404, "not_found", "Guest sign-in is turned off.");
  const proto = request.headers.get("x-forwarded-proto") ?? new URL(request.url).protocol.replace(":", "");
  const { user, cookie } = await createGuestSession({ secure: proto === "https" });
  const response = json({ user });
  const parts = [`${cookie.name}=${cookie.value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${cookie.maxAge}`];
  if (cookie.secure) parts.push("Secure");
  response.headers.append("Set-Cookie", parts.join("; "));
  return response;
});
