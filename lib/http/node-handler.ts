import "server-only";
import type { NextApiRequest, NextApiResponse } from "next";
import { type SignedInUser, userFromCookies } from "../auth/session-cookie";
import { AppError } from "../errors";
import { checkOrigin, checkPathIds, correlationIdOf, requestHost } from "./request-ids";
import { errorReply } from "./respond";

// withUser for the routes that answer on Node's own response (pages/api: the SSE streams and the
// send), with the same rules: correlation id, origin check for writes, 401 before anything else,
// path ids, errors as the contract's JSON.

export interface NodeContext {
  req: NextApiRequest;
  res: NextApiResponse;
  correlationId: string;
  user: SignedInUser;
  /** Path parameters by name. */
  params: Record<string, string>;
  query: URLSearchParams;
  lastEventId: string | undefined;
}

export function withNodeUser(
  pathParams: readonly string[],
  handler: (context: NodeContext) => Promise<void>,
  methods: readonly string[] = ["GET", "HEAD"],
) {
  return async (req: NextApiRequest, res: NextApiResponse): Promise<void> => {
    const correlationId = correlationIdOf(header(req, "x-correlation-id"));
    res.setHeader("X-Correlation-Id", correlationId);
    try {
      if (!req.method || !methods.includes(req.method)) {
        res.writeHead(405, { Allow: methods.join(", ") }).end();
        return;
      }
      checkOrigin(
        req.method,
        header(req, "origin"),
        requestHost((name) => header(req, name)),
      );
      const user = await userFromCookies((name) => req.cookies[name]);
      if (!user) throw new AppError(401, "unauthorized", "Please sign in.");
      const params: Record<string, string> = {};
      for (const name of pathParams) {
        const value = req.query[name];
        checkPathIds({ [name]: value });
        if (typeof value === "string") params[name] = value;
      }
      const query = new URL(req.url ?? "/", "http://localhost").searchParams;
      await handler({ req, res, correlationId, user, params, query, lastEventId: header(req, "last-event-id") });
    } catch (error) {
      const { status, headers, body } = errorReply(error, correlationId);
      // Once the stream has started, its failures are events (sent before this); just end it.
      if (res.headersSent) res.end();
      else res.writeHead(status, headers).end(body);
    }
  };
}

function header(req: NextApiRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
