import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

// A local OpenID Connect issuer (oidc-provider) for sign-in tests. Its development interactions
// give a login form that takes any login and password: the login becomes the account's `sub`, and
// its name and email are made from it. The client is a "native" one with a loopback redirect URI,
// so oidc-provider accepts the app's callback on whatever port the app got (RFC 8252, 7.3).

export interface OidcIssuer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The app's environment for this issuer (AUTH_OIDC_*). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const accountName = (login: string) => `Person ${login}`;
export const accountEmail = (login: string) => `${login}@example.test`;

export async function startOidcIssuer(): Promise<OidcIssuer> {
  const clientId = "backchannel-test";
  const clientSecret = "backchannel-test-secret-backchannel-test-secret";
  // The port is known only once it listens; the provider is made for it afterwards.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        application_type: "native",
        redirect_uris: ["http://127.0.0.1/api/auth/callback/oidc"],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    cookies: { keys: ["oidc-issuer-test-cookie-key"] },
    claims: { openid: ["sub"], profile: ["name"], email: ["email", "email_verified"] },
    // Auth.js reads the account's profile from the ID token.
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, name: accountName(sub), email: accountEmail(sub), email_verified: true }),
    }),
    features: { devInteractions: { enabled: true } },
  });
  handler = provider.callback();
  return {
    issuer,
    clientId,
    clientSecret,
    env: {
      AUTH_OIDC_ISSUER: issuer,
      AUTH_OIDC_ID: clientId,
      AUTH_OIDC_SECRET: clientSecret,
      AUTH_OIDC_NAME: "Test ID",
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Cookies by origin, as a browser keeps them (enough for the app and the issuer on loopback). */
class CookieJar {
  private readonly jar = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const origin = new URL(url).origin;
    const cookies = this.jar.get(origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(origin, cookies);
  }

  header(url: string): string {
    return [...(this.jar.get(new URL(url).origin) ?? new Map<string, string>())]
      .map(([name, value]) => `${name}=${value}`)
      .join("; ");
  }

  set(url: string, cookie: string): void {
    const at = cookie.indexOf("=");
    if (at < 0) return;
    const origin = new URL(url).origin;
    const cookies = this.jar.get(origin) ?? new Map<string, string>();
    cookies.set(cookie.slice(0, at), cookie.slice(at + 1));
    this.jar.set(origin, cookies);
  }
}

/**
 * Signs in to the app at `baseUrl` with the issuer's account `login` over plain HTTP, as a browser
 * would (Auth.js's sign-in POST, the issuer's login and consent forms, the callback), carrying
 * `cookie` (a guest's session cookie, or none) along. The app's session cookie it ends with.
 */
export async function signInWithIssuer(baseUrl: string, login: string, cookie = ""): Promise<string> {
  const jar = new CookieJar();
  if (cookie) jar.set(baseUrl, cookie);
  const request = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    const cookies = jar.header(url);
    if (cookies) headers.set("cookie", cookies);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    jar.store(url, response);
    return response;
  };
  const csrf = (await (await request(`${baseUrl}/api/auth/csrf`)).json()) as { csrfToken: string };
  const started = await request(`${baseUrl}/api/auth/signin/oidc`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1" },
    body: new URLSearchParams({ csrfToken: csrf.csrfToken, callbackUrl: `${baseUrl}/` }).toString(),
  });
  let url = ((await started.json()) as { url: string }).url;
  let response = await request(url);
  for (let step = 0; step < 20; step++) {
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get("location") ?? "", url).toString();
      if (url.startsWith(baseUrl) && !url.includes("/api/auth/")) break; // back in the app: signed in
      response = await request(url);
      continue;
    }
    const html = await response.text();
    const action = html.match(/<form[^>]*action="([^"]+)"/)?.[1];
    if (!action) throw new Error(`sign-in stopped at ${url} (${response.status}): ${html.slice(0, 300)}`);
    const fields = new URLSearchParams();
    for (const input of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
      fields.set(input[1] ?? "", input[2] ?? "");
    if (html.includes('name="login"')) {
      fields.set("login", login);
      fields.set("password", "any password");
    }
    url = new URL(action.replace(/&amp;/g, "&"), url).toString();
    response = await request(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: fields.toString(),
    });
  }
  const session = jar
    .header(baseUrl)
    .split("; ")
    .find((pair) => pair.startsWith("authjs.session-token="));
  if (!session) throw new Error(`no session after signing in at ${url}`);
  return session;
}
