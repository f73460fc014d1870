import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";

const modes: Mode[] = ["embedded", "redis"];
// The shortest life there is: a cookie is renewed once it is a second old (a quarter of it).
const MAX_AGE_SECONDS = 4;
// Auth.js accepts a token up to 15 s past its `exp` (clock skew): the unused cookie is dead after this.
const DEAD_AFTER_MS = (MAX_AGE_SECONDS + 15 + 2) * 1000;

/** The session cookie a response renews (`name=value`), and its Set-Cookie line. */
function renewedCookie(response: Response): { pair: string; line: string } | null {
  const line = response.headers.getSetCookie().find((l) => l.startsWith("authjs.session-token="));
  return line ? { pair: line.split(";")[0] ?? "", line } : null;
}

// Most of a run is waiting out the cookie's life: both modes wait at once.
describe("a session in use renews itself", () => {
  const apps = new Map<Mode, RunningApp>();

  beforeAll(async () => {
    await Promise.all(
      modes.map(async (mode) =>
        apps.set(mode, await startApp(mode, { AUTH_SESSION_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS) })),
      ),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...apps.values()].map((app) => app.stop()));
  });

  it.concurrent.each(modes)(
    "keeps a used session alive past its max age; an unused one expires (%s mode)",
    async (mode) => {
      const app = apps.get(mode);
      if (!app) throw new Error(`no ${mode} app`);
      const idle = await ApiClient.guest(app.baseUrl);
      const first = await idle.send("a chat of the guest");
      const started = Date.now();
      let cookie = idle.cookie;
      const renewals = new Set<string>();
      // Used every 1.5 s, each request with the cookie the last answer gave: the JSON routes and the
      // Node ones (the send, the stream) alike.
      for (let step = 0; Date.now() - started < DEAD_AFTER_MS; step++) {
        await sleep(1500);
        const client = ApiClient.withCookie(app.baseUrl, cookie);
        const response =
          step % 3 === 0
            ? await client.fetch("/api/chat/sessions")
            : step % 3 === 1
              ? await client.fetch("/api/chat/messages", {
                  method: "POST",
                  body: JSON.stringify({
                    sessionId: first.sessionId,
                    content: `use ${step}`,
                    clientMessageId: crypto.randomUUID(),
                  }),
                })
              : await client.fetch(`/api/chat/status/${first.sessionId}/${first.assistantMessageId}`);
        expect(response.status, `step ${step}`).toBeLessThan(300);
        await response.body?.cancel();
        const renewed = renewedCookie(response);
        if (renewed) {
          expect(renewed.line).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Max-Age=4/);
          renewals.add(step % 3 === 1 ? "node" : "app");
          cookie = renewed.pair;
        }
      }
      expect([...renewals].sort()).toEqual(["app", "node"]);
      // The same user throughout, and its chats are there.
      const renewedClient = ApiClient.withCookie(app.baseUrl, cookie);
      const session = await renewedClient.json<{ user: { id: string } }>("/api/auth/session");
      expect(session.body.user.id).toBe(idle.userId);
      const listed = await renewedClient.json<{ sessions: Array<{ id: string }> }>("/api/chat/sessions");
      expect(listed.body.sessions.map((s) => s.id)).toEqual([first.sessionId]);
      // The first cookie, never renewed, has run out: every route says 401, Auth.js says no session.
      expect((await idle.fetch("/api/chat/sessions")).status).toBe(401);
      const stream = await idle.fetch("/api/chat/stream");
      expect(stream.status).toBe(401);
      expect(((await stream.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      const gone = await idle.json<{ user?: unknown } | null>("/api/auth/session");
      expect(gone.body?.user).toBeUndefined();
    },
    DEAD_AFTER_MS + 30_000,
  );
});
