import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, textOf } from "../support/client";
import { accountEmail, accountName, type OidcIssuer, signInWithIssuer, startOidcIssuer } from "../support/oidc-issuer";

interface SessionList {
  sessions: Array<{ id: string }>;
}

const modes: Mode[] = ["embedded", "redis"];

describe.each(modes)("accounts through an OpenID issuer (%s mode)", (mode) => {
  let issuer: OidcIssuer;
  let app: RunningApp;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    // No heartbeat within a test: its resync would bring a reply the stream missed live, and hide that.
    app = await startApp(mode, { ...issuer.env, SSE_HEARTBEAT_MS: "600000" });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await issuer?.close();
  });

  it("lists the issuer beside guests", async () => {
    const response = await fetch(`${app.baseUrl}/api/auth/providers`);
    const providers = (await response.json()) as Record<string, { id: string; name: string; callbackUrl: string }>;
    expect(Object.keys(providers).sort()).toEqual(["guest", "oidc"]);
    expect(providers.oidc).toMatchObject({ name: "Test ID", callbackUrl: `${app.baseUrl}/api/auth/callback/oidc` });
  });

  it("moves a guest's chats to the account it signs in to, and no one else's", async () => {
    const login = `merge-${mode}-${Date.now()}`;
    // The account has a chat of its own already.
    const own = ApiClient.withCookie(app.baseUrl, await signInWithIssuer(app.baseUrl, login));
    const ownChat = await own.send("the account's own chat");
    const guest = await ApiClient.guest(app.baseUrl);
    const guestChat = await guest.send("a guest's chat");
    const other = await ApiClient.guest(app.baseUrl);
    const otherChat = await other.send("another guest's chat");

    const account = ApiClient.withCookie(app.baseUrl, await signInWithIssuer(app.baseUrl, login, guest.cookie));
    const session = await account.json<{ user: { id: string; name: string; email: string; guest: boolean } }>(
      "/api/auth/session",
    );
    expect(session.body.user).toMatchObject({ name: accountName(login), email: accountEmail(login), guest: false });
    expect(session.body.user.id).not.toBe(guest.userId);

    const listed = (await account.json<SessionList>("/api/chat/sessions")).body.sessions.map((s) => s.id);
    expect(listed.sort()).toEqual([ownChat.sessionId, guestChat.sessionId].sort());
    const messages = await account.json<{ messages: Array<{ content: string; role: string }> }>(
      `/api/chat/sessions/${guestChat.sessionId}/messages`,
    );
    expect(messages.status).toBe(200);
    expect(messages.body.messages.find((m) => m.role === "user")?.content).toBe("a guest's chat");
    // The other guest keeps its chat; the account does not see it.
    expect((await other.json<SessionList>("/api/chat/sessions")).body.sessions.map((s) => s.id)).toEqual([
      otherChat.sessionId,
    ]);
    expect((await account.json(`/api/chat/sessions/${otherChat.sessionId}/messages`)).status).toBe(404);
    // The same account signed in again (another browser) sees the same chats.
    const again = ApiClient.withCookie(app.baseUrl, await signInWithIssuer(app.baseUrl, login));
    const seen = (await again.json<SessionList>("/api/chat/sessions")).body.sessions.map((s) => s.id);
    expect(seen.sort()).toEqual([ownChat.sessionId, guestChat.sessionId].sort());
  });

  it("streams a reply that was being written when its guest signed in, live to its end", async () => {
    const login = `mid-reply-${mode}-${Date.now()}`;
    const guest = await ApiClient.guest(app.baseUrl);
    const sent = await guest.send("/mock tokens=300 tps=30\nA reply running while its guest signs in");
    const reply = sent.assistantMessageId;
    // Under way before the sign-in: its first chunk is out.
    await guest.readSse(`/api/chat/stream/${sent.sessionId}`, {
      until: (event) => event.event === "chunk" && event.data.messageId === reply,
    });
    const account = ApiClient.withCookie(app.baseUrl, await signInWithIssuer(app.baseUrl, login, guest.cookie));
    // Both of the account's streams, opened with no cursor, send it from its start to its end.
    const [all, one] = await Promise.all([
      account.readSse("/api/chat/stream", { until: isEnd(reply), timeoutMs: 60_000 }),
      account.readSse(`/api/chat/stream/${sent.sessionId}`, { until: isEnd(reply), timeoutMs: 60_000 }),
    ]);
    const stored = await account.json<{ status: string; content: string }>(
      `/api/chat/status/${sent.sessionId}/${reply}`,
    );
    expect(stored.body.status).toBe("completed");
    for (const { status, events } of [all, one]) {
      expect(status).toBe(200);
      expect(events.filter((e) => e.data.messageId === reply).at(-1)?.event).toBe("done");
      expect(textOf(events, reply)).toBe(stored.body.content);
    }
  }, 90_000);
});

describe("account providers from the environment", () => {
  const cases: Array<{ name: string; env: Record<string, string>; expected: string[] }> = [
    { name: "none set", env: {}, expected: ["guest"] },
    {
      name: "GitHub and Google set, the issuer without its secret",
      env: {
        AUTH_GITHUB_ID: "github-id",
        AUTH_GITHUB_SECRET: "github-secret",
        AUTH_GOOGLE_ID: "google-id",
        AUTH_GOOGLE_SECRET: "google-secret",
        AUTH_OIDC_ISSUER: "https://issuer.example.test",
        AUTH_OIDC_ID: "oidc-id",
      },
      expected: ["github", "google", "guest"],
    },
    { name: "GitHub's id without its secret", env: { AUTH_GITHUB_ID: "github-id" }, expected: ["guest"] },
  ];

  describe.each(cases)("$name", ({ env, expected }) => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await startApp("embedded", env);
    }, 120_000);
    afterAll(async () => {
      await app?.stop();
    });

    it("GET /api/auth/providers lists exactly those", async () => {
      const response = await fetch(`${app.baseUrl}/api/auth/providers`);
      expect(response.status).toBe(200);
      const providers = (await response.json()) as Record<string, { callbackUrl: string }>;
      expect(Object.keys(providers).sort()).toEqual(expected);
      for (const id of expected) expect(providers[id]?.callbackUrl).toBe(`${app.baseUrl}/api/auth/callback/${id}`);
    });
  });
});
