import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { type OpenSse, openSse } from "../support/open-sse";

// At most MAX_SSE_PER_USER open streams per user: a new one always opens, and the user's oldest
// is told `reconnect` `superseded` and closed. Other users' streams are not touched.

const modes: Mode[] = ["embedded", "redis"];

describe.each(modes)("streams per user (%s mode)", (mode) => {
  let app: RunningApp;
  const open: OpenSse[] = [];

  beforeAll(async () => {
    app = await startApp(mode, { MAX_SSE_PER_USER: "3" });
  });
  afterAll(async () => {
    for (const stream of open) stream.abort();
    await app?.stop();
  });

  const stream = async (client: ApiClient, path = "/api/chat/stream") => {
    const opened = await openSse(client, path, 60_000);
    open.push(opened);
    expect(opened.status).toBe(200);
    return opened;
  };
  const isSuperseded = (event: { event: string; data: unknown }) =>
    event.event === "reconnect" && (event.data as { reason?: string }).reason === "superseded";

  it("closes the oldest stream with reconnect superseded when one more opens", async () => {
    const alice = await ApiClient.guest(app.baseUrl);
    const bob = await ApiClient.guest(app.baseUrl);
    const bobs = [await stream(bob), await stream(bob), await stream(bob)];
    const first = await stream(alice);
    const second = await stream(alice);
    const third = await stream(alice);
    const fourth = await stream(alice);
    const endedFirst = await first.ended;
    expect(endedFirst.at(-1)).toEqual({ event: "reconnect", id: undefined, data: { reason: "superseded" } });
    // The next one to go is the second, when a fifth opens; the third and fourth stay.
    const fifth = await stream(alice);
    await second.ended;
    expect(second.events.some(isSuperseded)).toBe(true);
    // The ones still open get the user's events: a reply streams to all three.
    const turn = await alice.send("/mock tokens=3 tps=0\nto every open stream");
    for (const s of [third, fourth, fifth])
      await s.waitFor((e) => e.event === "done" && e.data.messageId === turn.assistantMessageId);
    for (const s of [third, fourth, fifth, ...bobs]) expect(s.events.some(isSuperseded)).toBe(false);
  });

  it("counts a one-session stream too", async () => {
    const carol = await ApiClient.guest(app.baseUrl);
    const turn = await carol.send("/mock tokens=400 tps=5\nslow enough to keep its stream open");
    const session = await stream(carol, `/api/chat/stream/${turn.sessionId}`);
    await session.waitFor((e) => e.event === "status");
    await stream(carol);
    await stream(carol);
    await stream(carol);
    await session.ended;
    expect(session.events.some(isSuperseded)).toBe(true);
    await carol.json(`/api/chat/cancel/${turn.sessionId}/${turn.assistantMessageId}`, { method: "POST" });
  });
});
