import "server-only";
import { currentSession, renewedCookieHeader, type SignedInUser } from "../auth/index";
import { AppError } from "../errors";
import { addLogContext, withLogContext } from "../log";
import { checkOrigin, checkPathIds, correlationIdOf, requestHost } from "./request-ids";
import { errorResponse } from "./respond";

type Params = Record<string, string | string[]>;
interface RouteContext<P extends Params> {
  params: Promise<P>;
}

export interface RequestContext<P extends Params> {
  request: Request;
  params: P;
  correlationId: string;
}

type Authenticated<P extends Params> = RequestContext<P> & { user: SignedInUser };

/** What authenticating a request found: its context, and a renewed session cookie for the response. */
interface Authentication<C> {
  extra: C;
  setCookie?: string;
}

function wrap<P extends Params, C>(
  authenticate: (request: Request) => Promise<Authentication<C>>,
  handler: (context: RequestContext<P> & C) => Promise<Response>,
) {
  return async (request: Request, route: RouteContext<P>): Promise<Response> => {
    const correlationId = correlationIdOf(request.headers.get("x-correlation-id"));
    return withLogContext({ correlationId }, () => answer(request, route, correlationId));
  };

  async function answer(request: Request, route: RouteContext<P>, correlationId: string): Promise<Response> {
    try {
      const host = requestHost((name) => request.headers.get(name)) || new URL(request.url).host;
      checkOrigin(request.method, request.headers.get("origin"), host);
      const { extra, setCookie } = await authenticate(request);
      const params = (await route?.params) ?? ({} as P);
      checkPathIds(params);
      addLogContext(params);
      const response = await handler({ request, params, correlationId, ...extra });
      response.headers.set("X-Correlation-Id", correlationId);
      if (setCookie) response.headers.append("Set-Cookie", setCookie);
      return response;
    } catch (error) {
      return errorResponse(error, correlationId);
    }
  }
}

/** Wraps a route: correlation id, origin check, path ids, errors as the contract's JSON. */
export function withRequest<P extends Params = Params>(handler: (context: RequestContext<P>) => Promise<Response>) {
  return wrap<P, object>(async () => ({ extra: {} }), handler);
}

/**
 * Like withRequest, and the request must carry a valid session (401 before anything else is looked
 * at). A session due for renewal gets its cookie issued again on the response.
 */
export function withUser<P extends Params = Params>(handler: (context: Authenticated<P>) => Promise<Response>) {
  return wrap<P, { user: SignedInUser }>(async () => {
    const session = await currentSession();
    if (!session) throw new AppError(401, "unauthorized", "Please sign in.");
    addLogContext({ userId: session.user.id });
    return {
      extra: { user: session.user },
      setCookie: session.renewed ? renewedCookieHeader(session.renewed) : undefined,
    };
  }, handler);
}
