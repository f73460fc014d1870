// POST /api/auth/callback/guest — Auth.js's own guest sign-in (its credentials provider), counted
// against the same sign-ups per client address as POST /api/auth/guest before Auth.js sees it.
// A pages/api route in front of Auth.js's handler (app/api/auth/[...nextauth]), for the socket's
// peer; the request is handed on unchanged and Auth.js's answer sent back as it is.
import type { NextApiRequest } from "next";
import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth/auth-js";
import { authJsRefusal, checkCallbackUrls } from "@/lib/auth/auth-js-guard";
import { admitGuestSignup } from "@/lib/auth/guest-limit";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { readNodeBody } from "@/lib/http/body";
import { withNodeRequest } from "@/lib/http/node-handler";

export const config = { api: { bodyParser: false } };

export default withNodeRequest(["POST"], async ({ req, res, address }) => {
  const request = toRequest(req, await readNodeBody(req));
  checkCallbackUrls(new URL(request.url).searchParams, (name) => req.cookies[name]);
  if (env().AUTH_GUEST === "on") await admitGuestSignup(address);
  const response = await handlers.POST(request as NextRequest);
  // Auth.js's own error bodies are not the contract's.
  if (response.status >= 400) {
    await response.body?.cancel();
    throw authJsRefusal(response.status, false);
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()));
});

function toRequest(req: NextApiRequest, body: string): Request {
  const proto =
    (req.headers["x-forwarded-proto"] as string | undefined)?.split(",")[0]?.trim() === "https" ? "https" : "http";
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(urlOf(req, proto), { method: "POST", headers, body });
}

/** The request's URL as the client named it: an empty or malformed X-Forwarded-Host or Host is passed over. */
function urlOf(req: NextApiRequest, proto: string): URL {
  const forwarded = (req.headers["x-forwarded-host"] as string | undefined)?.split(",")[0]?.trim();
  for (const host of [forwarded, req.headers.host, "localhost"]) {
    if (!host) continue;
    try {
      const url = new URL(req.url ?? "/", `${proto}://${host}`);
      if (url.hostname) return url;
    } catch {
      // the next candidate
    }
  }
  throw new AppError(400, "invalid_request", "The request names no valid host.");
}
