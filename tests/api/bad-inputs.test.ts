import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ROUTES, allowOf } from "@/lib/http/method-guard";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { type RawAnswer, rawBytes, rawRequest } from "../support/raw-http";

const modes: Mode[] = ["embedded", "redis"];

/** The contract's error body with this status and code (a HEAD answer has no body to check). */
function expectError(answer: RawAnswer, status: number, code: string, label = "") {
  expect(answer.status, `${label} ${answer.body}`).toBe(status);
  expect(answer.headers["content-type"], label).toMatch(/^application\/json/);
  if (answer.body === "") return;
  const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(body, label).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(Object.keys(body)).toEqual(["error"]);
}

/** A page cursor as the server encodes one (base64url of `<iso date>|<session id>`). */
const cursorOf = (iso: string, id: string) => Buffer.from(`${iso}|${id}`).toString("base64url");

// Inputs that were once 500s or answers without the contract's body, each in both modes.
describe.each(modes)("bad inputs get the contract's 4xx (%s mode)", (mode) => {
  let app: RunningApp;
  let client: ApiClient;
  let turn: Awaited<ReturnType<ApiClient["send"]>>;
  const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    rawRequest(app.baseUrl, { method, path, headers: { cookie: client.cookie, ...headers }, body });

  beforeAll(async () => {
    app = await startApp(mode);
    client = await ApiClient.guest(app.baseUrl);
    turn = await client.send("/mock tokens=3 tps=0\nfirst");
    await client.readSse(turn.streamUrl);
  });
  afterAll(() => app?.stop());

  it("refuses a NUL character in a message, a title, a system prompt or a search with 400", async () => {
    const json = { "content-type": "application/json" };
    const send = await raw(
      "POST",
      "/api/chat/messages",
      json,
      JSON.stringify({ content: "a\u0000b", clientMessageId: randomUUID() }),
    );
    expectError(send, 400, "invalid_request");
    expect(JSON.parse(send.body).error.fields).toHaveProperty("content");
    for (const patch of [{ title: "a\u0000b" }, { systemPrompt: "a\u0000b" }]) {
      const answer = await raw("PATCH", `/api/chat/sessions/${turn.sessionId}`, json, JSON.stringify(patch));
      expectError(answer, 400, "invalid_request", JSON.stringify(patch));
      expect(JSON.parse(answer.body).error.fields).toHaveProperty(Object.keys(patch)[0] ?? "");
    }
    expectError(await raw("GET", "/api/chat/search?q=a%00b"), 400, "invalid_request");
    const { body } = await client.json<{ sessions: Array<{ title: string }> }>("/api/chat/sessions");
    expect(body.sessions.map((session) => session.title)).toEqual(["first"]);
  });

  it("refuses a session-list cursor dated outside 1970..9999 with 400, and still takes its own", async () => {
    for (const iso of ["0000-01-01T00:00:00.000Z", "+275760-09-13T00:00:00.000Z", "-000001-01-01T00:00:00.000Z"]) {
      const answer = await raw("GET", `/api/chat/sessions?cursor=${cursorOf(iso, turn.sessionId)}`);
      expectError(answer, 400, "invalid_request", iso);
      expect(JSON.parse(answer.body).error.fields).toEqual({ cursor: expect.any(String) });
    }
    const within = await raw("GET", `/api/chat/sessions?cursor=${cursorOf("9999-12-31T23:59:59.999Z", randomUUID())}`);
    expect(within.status).toBe(200);
    expect(JSON.parse(within.body).sessions.map((session: { id: string }) => session.id)).toEqual([turn.sessionId]);
  });

  it("answers TRACE, CONNECT and other unknown methods on any path with a JSON 405 and Allow", async () => {
    for (const [method, path] of [
      ["TRACE", "/"],
      ["TRACE", "/api/health"],
      ["TRACE", `/api/chat/sessions/${turn.sessionId}`],
      ["PROPFIND", "/api/models"],
      ["MKCOL", "/api/nothing-here"],
    ] as const) {
      const answer = await raw(method, path);
      expectError(answer, 405, "method_not_allowed", `${method} ${path}`);
      expect(answer.headers.allow, `${method} ${path}`).toMatch(/OPTIONS$/);
    }
    expect((await raw("TRACE", "/api/health")).headers.allow).toBe("GET, HEAD, OPTIONS");
    expect((await raw("TRACE", `/api/chat/sessions/${turn.sessionId}`)).headers.allow).toBe("PATCH, DELETE, OPTIONS");
    expectError(await raw("CONNECT", "127.0.0.1:1"), 405, "method_not_allowed", "CONNECT");
  });

  it("answers a method Node cannot parse and a path that does not decode with a JSON 400", async () => {
    const track = await rawBytes(app.baseUrl, "TRACK /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(track).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(track.split("\r\n\r\n")[1] ?? "")).toMatchObject({ error: { code: "invalid_request" } });
    for (const path of ["/api/chat/sessions/%E0%A4%A", "/%zz", "/api/health%"]) {
      expectError(await raw("GET", path), 400, "invalid_request", path);
    }
  });

  it("answers a wrong method on every /api route with 405, its Allow and the JSON body; OPTIONS with 204", async () => {
    for (const route of API_ROUTES) {
      const path = route.pattern.replace(/:[A-Za-z]+/g, () => randomUUID()).replace(/\*$/, "session");
      const wrong = ["PUT", "DELETE", "POST", "GET"].find((method) => !route.methods.includes(method)) ?? "PUT";
      const answer = await raw(wrong, path);
      expectError(answer, 405, "method_not_allowed", `${wrong} ${path}`);
      expect(answer.headers.allow, path).toBe(allowOf(route));
      const options = await raw("OPTIONS", path);
      expect(options.status, path).toBe(204);
      expect(options.headers.allow, path).toBe(allowOf(route));
    }
  });

  it("answers HEAD of a stream 405 at once, even while a reply is being written", async () => {
    const slow = await client.send("/mock tokens=400 tps=20\nslow");
    for (const path of [`/api/chat/stream/${slow.sessionId}`, "/api/chat/stream"]) {
      const answer = await raw("HEAD", path);
      expect(answer.status, path).toBe(405);
      expect(answer.headers.allow, path).toBe("GET, OPTIONS");
    }
    await client.json(`/api/chat/cancel/${slow.sessionId}/${slow.assistantMessageId}`, { method: "POST" });
  });

  it("refuses a javascript: callback URL of Auth.js with 400, in the query or the cookie", async () => {
    const query = await rawRequest(app.baseUrl, {
      method: "GET",
      path: "/api/auth/session?callbackUrl=javascript:alert(1)",
    });
    expectError(query, 400, "invalid_request");
    expect(JSON.parse(query.body).error.fields).toHaveProperty("callbackUrl");
    const cookie = await rawRequest(app.baseUrl, {
      method: "GET",
      path: "/api/auth/session",
      headers: { cookie: "authjs.callback-url=javascript%3Aalert(1)" },
    });
    expectError(cookie, 400, "invalid_request");
    const guest = await rawRequest(app.baseUrl, {
      method: "POST",
      path: "/api/auth/callback/guest?callbackUrl=javascript:alert(1)",
    });
    expectError(guest, 400, "invalid_request");
    // Auth.js's error page is the app's, a page a browser can read: its own redirects there.
    const errorPage = await rawRequest(app.baseUrl, { method: "GET", path: "/api/auth/error?error=Configuration" });
    expect(errorPage.status).toBe(302);
    expect(new URL(errorPage.headers.location ?? "", app.baseUrl).pathname).toBe("/auth/error");
    const session = await rawRequest(app.baseUrl, { method: "GET", path: "/api/auth/session?callbackUrl=/chat" });
    expect(session).toMatchObject({ status: 200, body: "null" });
  });

  it("judges a write's origin by Host when X-Forwarded-Host is empty", async () => {
    const headers = { "content-type": "application/json", origin: app.baseUrl, "x-forwarded-host": "" };
    const patch = await raw(
      "PATCH",
      `/api/chat/sessions/${turn.sessionId}`,
      headers,
      JSON.stringify({ title: "first" }),
    );
    expect(patch.status, patch.body).toBe(200);
    const send = await raw(
      "POST",
      "/api/chat/messages",
      headers,
      JSON.stringify({ content: "/mock tokens=2 tps=0\nhost", clientMessageId: randomUUID() }),
    );
    expect(send.status, send.body).toBe(202);
    const other = await raw(
      "POST",
      "/api/chat/messages",
      { ...headers, origin: "http://evil.example" },
      JSON.stringify({ content: "x", clientMessageId: randomUUID() }),
    );
    expectError(other, 403, "forbidden_origin");
  });

  it("signs a guest in through Auth.js's callback even with an empty X-Forwarded-Host", async () => {
    const csrf = await fetch(`${app.baseUrl}/api/auth/csrf`);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const csrfCookie = (csrf.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const answer = await rawRequest(app.baseUrl, {
      method: "POST",
      path: "/api/auth/callback/guest",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie, "x-forwarded-host": "" },
      body: new URLSearchParams({ csrfToken, callbackUrl: "/" }).toString(),
    });
    expect(answer.status, answer.body).toBe(302);
    expect(String(answer.headers["set-cookie"])).toMatch(/authjs\.session-token=/);
  });
});
