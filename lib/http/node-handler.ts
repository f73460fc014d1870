import "server-only";
import type { NextApiRequest, NextApiResponse } from "next";
import { renewedCookieHeader, type SignedInUser, sessionFromCookies } from "../auth/session-cookie";
import { env } from "../env";
import { AppError } from "../errors";
import { addLogContext, withLogContext } from "../log";
import { clientAddress } from "./client-address";
import { checkOrigin, checkPathIds, correlationIdOf, requestHost } from "./request-ids";
import { errorReply } from "./respond";

// withUser for the routes that answer on Node's own response (pages/api: the SSE streams and the
// send), with the same rules: correlation id, origin check for writes, 401 before anything else,
// path ids, errors as the contract's JSON.

export interface NodeRequestContext {
  req: NextApiRequest;
  res: NextApiResponse;
  correlationId: string;
  /** Where the request came from (lib/http/client-address.ts): the socket's peer, or the proxy's word. */
  address: string;
}

export interface NodeContext extends NodeRequestContext {
  user: SignedInUser;
  /** Path parameters by name. */
  params: Record<string, string>;
  query: URLSearchParams;
  lastEventId: string | undefined;
}

/** For every pages/api route: correlation id, method (405), origin check for writes, errors as the contract's JSON. */
export function withNodeRequest(methods: readonly string[], handler: (context: NodeRequestContext) => Promise<void>) {
  const answer = async (req: NextApiRequest, res: NextApiResponse, correlationId: string): Promise<void> => {
    res.setHeader("X-Correlation-Id", correlationId);
    try {
      checkMethod(req, methods);
      checkOrigin(
        req.method ?? "GET",
        header(req, "origin"),
        requestHost((name) => header(req, name)),
      );
      await handler({ req, res, correlationId, address: addressOf(req) });
    } catch (error) {
      const { status, headers, body } = errorReply(error, correlationId);
      // Once the stream has started, its failures are events (sent before this); just end it.
      if (res.headersSent) res.end();
      else res.writeHead(status, headers).end(body);
    }
  };
  return (req: NextApiRequest, res: NextApiResponse): Promise<void> => {
    const correlationId = correlationIdOf(header(req, "x-correlation-id"));
    return withLogContext({ correlationId }, () => answer(req, res, correlationId));
  };
}

/** withNodeRequest, and the request must carry a valid session (401 before anything else, renewed when due), then the path ids. */
export function withNodeUser(
  pathParams: readonly string[],
  handler: (context: NodeContext) => Promise<void>,
  // No HEAD: the head of a stream would be held for the stream's whole life.
  methods: readonly string[] = ["GET"],
) {
  return withNodeRequest(methods, async (context) => {
    const { req, res } = context;
    const session = await sessionFromCookies((name) => req.cookies[name]);
    if (!session) throw new AppError(401, "unauthorized", "Please sign in.");
    const { user } = session;
    addLogContext({ userId: user.id });
    // A session in use is renewed: its cookie issued again, on whatever this route answers.
    if (session.renewed) res.setHeader("Set-Cookie", renewedCookieHeader(session.renewed));
    const params: Record<string, string> = {};
    for (const name of pathParams) {
      const value = req.query[name];
      checkPathIds({ [name]: value });
      if (typeof value === "string") params[name] = value;
    }
    addLogContext(params);
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    await handler({ ...context, user, params, query, lastEventId: header(req, "last-event-id") });
  });
}

function header(req: NextApiRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** 405 with the contract's JSON body and an Allow header. */
function checkMethod(req: NextApiRequest, methods: readonly string[]) {
  if (req.method && methods.includes(req.method)) return;
  throw new AppError(405, "method_not_allowed", `This endpoint answers ${methods.join(", ")}.`, {
    headers: { Allow: methods.join(", ") },
  });
}

function addressOf(req: NextApiRequest): string {
  return clientAddress({
    forwardedFor: header(req, "x-forwarded-for"),
    socketAddress: req.socket.remoteAddress,
    trustProxy: env().TRUST_PROXY,
  });
}
