// POST /api/auth/callback/guest — Auth.js's own guest sign-in (its credentials provider), counted
// against the same sign-ups per client address as POST /api/auth/guest before Auth.js sees it.
// A pages/api route in front of Auth.js's handler (app/api/auth/[...nextauth]), for the socket's
// peer; the request is handed on unchanged and Auth.js's answer sent back as it is.
import type { NextApiRequest } from "next";
import type { NextRequest } from "next/server";
import { handlers } from "@/lib/auth/auth-js";
import { admitGuestSignup } from "@/lib/auth/guest-limit";
import { env } from "@/lib/env";
import { readNodeBody } from "@/lib/http/body";
import { withNodeRequest } from "@/lib/http/node-handler";

export const config = { api: { bodyParser: false } };

export default withNodeRequest(["POST"], async ({ req, res, address }) => {
  if (env().AUTH_GUEST === "on") await admitGuestSignup(address);
  const body = await readNodeBody(req);
  const response = await handlers.POST(toRequest(req, body) as NextRequest);
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()));
});

function toRequest(req: NextApiRequest, body: string): Request {
  const proto = (req.headers["x-forwarded-proto"] as string | undefined)?.split(",")[0] ?? "http";
  const host = (req.headers["x-forwarded-host"] as string | undefined) ?? req.headers.host ?? "localhost";
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(new URL(req.url ?? "/", `${proto}://${host}`), { method: "POST", headers, body });
}
