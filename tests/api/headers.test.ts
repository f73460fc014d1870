import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";

// The security headers (lib/http/security-headers.ts) on each kind of response: a page (proxy.ts,
// with a script nonce per request), the API's JSON and SSE answers, and Auth.js's own pages.
const modes: Mode[] = ["embedded", "redis"];

const DOCUMENT_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
  "x-frame-options": "DENY",
};

/** The policy's directives by name, each its list of sources. */
function directives(response: Response): Map<string, string[]> {
  const policy = response.headers.get("content-security-policy") ?? "";
  const entries = policy.split(";").map((part) => part.trim().split(/\s+/));
  return new Map(entries.filter(([name]) => name).map(([name = "", ...sources]) => [name, sources]));
}

function scriptNonce(response: Response): string {
  const sources = directives(response).get("script-src") ?? [];
  const nonces = sources.filter((source) => source.startsWith("'nonce-")).map((source) => source.slice(7, -1));
  expect(nonces).toHaveLength(1);
  return nonces[0] ?? "";
}

function expectDocumentHeaders(response: Response) {
  for (const [name, value] of Object.entries(DOCUMENT_HEADERS)) expect(response.headers.get(name)).toBe(value);
  expect(response.headers.get("permissions-policy")).toMatch(/camera=\(\)/);
  expect(directives(response).get("frame-ancestors")).toEqual(["'none'"]);
}

describe.each(modes)("security headers (%s mode)", (mode) => {
  let app: RunningApp;
  let client: ApiClient;

  beforeAll(async () => {
    app = await startApp(mode);
    client = await ApiClient.guest(app.baseUrl);
  });
  afterAll(() => app?.stop());

  it("gives each page load a fresh script nonce, carried by every <script> tag of the page", async () => {
    const nonces = new Set<string>();
    for (const path of ["/", "/", `/chat/${crypto.randomUUID()}`, "/no-such-page"]) {
      const response = await client.fetch(path);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expectDocumentHeaders(response);
      const nonce = scriptNonce(response);
      nonces.add(nonce);
      const scripts = (await response.text()).match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toContain(` nonce="${nonce}"`);
    }
    expect(nonces.size).toBe(4);
  });

  it("lets a page run only its nonce's scripts: no inline script, no eval, no plugins", async () => {
    const response = await client.fetch("/");
    const policy = directives(response);
    expect(policy.get("script-src")).toEqual(["'self'", `'nonce-${scriptNonce(response)}'`, "'strict-dynamic'"]);
    expect(policy.get("default-src")).toEqual(["'self'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
  });

  it("sends nosniff and no-store on the API's JSON, its errors too, and no page policy", async () => {
    const sent = await client.send("/mock tokens=5 tps=500\nheaders");
    const answers = [
      await fetch(`${app.baseUrl}/api/models`),
      await client.fetch("/api/chat/sessions"),
      await client.fetch(sent.statusUrl),
      await fetch(`${app.baseUrl}/api/chat/sessions`),
      await fetch(`${app.baseUrl}/api/no-such-endpoint`),
      await client.fetch("/api/chat/messages", { method: "POST", body: "{}" }),
    ];
    expect(answers.map((response) => response.status)).toEqual([200, 200, 200, 401, 404, 400]);
    for (const response of answers) {
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toBe("no-store");
      // The proxy (and its per-request cost) stays off the API.
      expect(response.headers.get("content-security-policy")).toBeNull();
    }
  });

  it("sends nosniff on the SSE stream", async () => {
    const sent = await client.send("/mock tokens=5 tps=500\nstream headers");
    const controller = new AbortController();
    const response = await client.fetch(sent.streamUrl, { signal: controller.signal });
    controller.abort();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toBeNull();
  });

  it("shows a failed sign-in as a page a browser can read, under the pages' nonce policy", async () => {
    const redirect = await client.fetch("/api/auth/error?error=OAuthCallbackError", { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get("location") ?? "", client.baseUrl);
    expect(location.pathname + location.search).toBe("/auth/error?error=OAuthCallbackError");
    await redirect.body?.cancel();
    const page = await client.fetch(location.pathname + location.search);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expectDocumentHeaders(page);
    expect(
      directives(page)
        .get("script-src")
        ?.some((source) => source.startsWith("'nonce-")),
    ).toBe(true);
    const html = await page.text();
    expect(html).toContain("Sign-in failed");
    expect(html).toContain("The provider did not finish the sign-in");
    // A code it does not know gets the general sentence, and the query is not shown as markup.
    const unknown = await (await client.fetch("/auth/error?error=%3Cb%3Emade-up")).text();
    expect(unknown).toContain("Signing in did not work.");
    expect(unknown).not.toContain("<b>made-up");
    expect(unknown).not.toContain('data-auth-error="');
  });

  it("sends Auth.js's own pages a policy with no script, and its answers no-store", async () => {
    for (const path of ["/api/auth/signin", "/api/auth/providers", "/api/auth/session"]) {
      const response = await client.fetch(path);
      expect(response.status).toBe(200);
      expectDocumentHeaders(response);
      expect(response.headers.get("cache-control")).toMatch(/no-store/);
      const policy = directives(response);
      expect(policy.get("default-src")).toEqual(["'none'"]);
      expect(policy.get("script-src")).toEqual(["'none'"]);
      await response.body?.cancel();
    }
  });
});
