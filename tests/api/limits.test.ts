import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";

// Issue 13's limits on who may make users and replies, in each mode: guest sign-ups per client
// address on both guest paths, sends per address, and the running-replies cap under sends at once.

const modes: Mode[] = ["embedded", "redis"];

/** A client address of its own per test (the apps trust X-Forwarded-For, as behind Vercel). */
const newAddress = () =>
  `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

async function guestFrom(app: RunningApp, address: string) {
  const response = await fetch(`${app.baseUrl}/api/auth/guest`, {
    method: "POST",
    headers: { "x-forwarded-for": `${address}, 203.0.113.9` },
  });
  const body = (await response.json()) as Record<string, unknown>;
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return { status: response.status, body, retryAfter: response.headers.get("retry-after"), cookie };
}

/** Auth.js's own guest sign-in: its CSRF token, then the credentials callback. */
async function authJsGuestFrom(app: RunningApp, address: string) {
  const csrf = await fetch(`${app.baseUrl}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const csrfCookie = (csrf.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const response = await fetch(`${app.baseUrl}/api/auth/callback/guest`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: csrfCookie,
      "x-forwarded-for": address,
    },
    body: new URLSearchParams({ csrfToken, callbackUrl: app.baseUrl }).toString(),
  });
  const text = await response.text();
  return { status: response.status, text, cookies: response.headers.getSetCookie() };
}

function sendAs(app: RunningApp, cookie: string, address: string, content: string) {
  return fetch(`${app.baseUrl}/api/chat/messages`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json", "x-forwarded-for": address },
    body: JSON.stringify({ content, clientMessageId: randomUUID() }),
  });
}

describe.each(modes)("limits (%s mode)", (mode) => {
  let app: RunningApp;
  let direct: RunningApp;

  beforeAll(async () => {
    [app, direct] = await Promise.all([
      startApp(mode, {
        TRUST_PROXY: "1",
        GUEST_SIGNUPS_PER_HOUR: "3",
        RATE_LIMIT_SENDS_PER_ADDRESS_PER_MINUTE: "5",
        RATE_LIMIT_SENDS_PER_MINUTE: "100",
        MAX_RUNNING_REPLIES_PER_USER: "10",
      }),
      // No proxy in front: X-Forwarded-For is the client's to write and counts for nothing.
      startApp(mode, { GUEST_SIGNUPS_PER_HOUR: "2" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([app?.stop(), direct?.stop()]);
  });

  it("limits guest sign-ups per client address, on both guest paths, with Retry-After", async () => {
    const address = newAddress();
    for (let i = 0; i < 3; i++) expect((await guestFrom(app, address)).status).toBe(200);
    const refused = await guestFrom(app, address);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.cookie).toBe("");
    // Auth.js's guest callback counts against the same limit.
    const viaAuthJs = await authJsGuestFrom(app, address);
    expect(viaAuthJs.status).toBe(429);
    expect(JSON.parse(viaAuthJs.text)).toMatchObject({ error: { code: "rate_limited" } });
    expect(viaAuthJs.cookies.some((c) => c.includes("session-token"))).toBe(false);
    // Another address is not held back.
    expect((await guestFrom(app, newAddress())).status).toBe(200);
  });

  it("signs a guest in through Auth.js's callback, counted like the other path", async () => {
    const address = newAddress();
    const signedIn = await authJsGuestFrom(app, address);
    expect(signedIn.status).toBe(302);
    const session = signedIn.cookies.find((c) => c.startsWith("authjs.session-token="));
    expect(session).toBeDefined();
    const client = ApiClient.withCookie(app.baseUrl, session?.split(";")[0] ?? "");
    expect((await client.json("/api/chat/sessions")).status).toBe(200);
    expect((await guestFrom(app, address)).status).toBe(200);
    expect((await guestFrom(app, address)).status).toBe(200);
    expect((await guestFrom(app, address)).status).toBe(429);
  });

  it("counts the connection's peer, not a forged X-Forwarded-For, when no proxy is trusted", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await guestFrom(direct, newAddress())).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("limits sends per client address across the users it makes", async () => {
    const address = newAddress();
    const guests = await Promise.all([guestFrom(app, address), guestFrom(app, address), guestFrom(app, address)]);
    const statuses: number[] = [];
    for (const guest of guests) {
      for (let i = 0; i < 2; i++) {
        const response = await sendAs(app, guest.cookie, address, `/mock tokens=2 tps=0\nfrom one address ${i}`);
        statuses.push(response.status);
        if (response.status === 429) {
          expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
          expect(await response.json()).toMatchObject({ error: { code: "rate_limited" } });
        } else await response.body?.cancel();
      }
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    // A user of another address still sends.
    const other = await guestFrom(app, newAddress());
    const response = await sendAs(app, other.cookie, newAddress(), "/mock tokens=2 tps=0\nelsewhere");
    expect(response.status).toBe(202);
    await response.body?.cancel();
  });

  it("holds the running-replies cap under 25 sends at once", async () => {
    const guest = await guestFrom(app, newAddress());
    // Each send from its own address, so only the cap can refuse them.
    const responses = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        sendAs(app, guest.cookie, newAddress(), `/mock tokens=400 tps=5\nlong ${i}`),
      ),
    );
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Record<string, unknown>>));
    const accepted = bodies.filter((_, i) => responses[i]?.status === 202);
    const refused = responses.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(15);
    const client = ApiClient.withCookie(app.baseUrl, guest.cookie);
    const active = await client.json<{ streams: unknown[] }>("/api/chat/active-streams");
    expect(active.body.streams).toHaveLength(10);
    // Stopping one frees one place.
    const first = accepted[0] as { sessionId: string; assistantMessageId: string };
    await client.json(`/api/chat/cancel/${first.sessionId}/${first.assistantMessageId}`, { method: "POST" });
    const again = await sendAs(app, guest.cookie, newAddress(), "/mock tokens=2 tps=0\nnow there is room");
    expect(again.status).toBe(202);
    await again.body?.cancel();
    for (const body of accepted.slice(1) as Array<{ sessionId: string; assistantMessageId: string }>) {
      await client.json(`/api/chat/cancel/${body.sessionId}/${body.assistantMessageId}`, { method: "POST" });
    }
  });
});
