import { afterEach, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { openSse } from "../support/open-sse";

// SIGTERM to the web process (a deploy, a scale-down): every open SSE connection gets a
// `reconnect` event with reason "shutdown" before it is closed, and the process exits promptly
// (Next's own handler waits for open requests: an SSE connection left open would hold it for
// MAX_SSE_SECONDS). The embedded mode's in-process worker has its own SIGTERM handler: both run.

function exited(pid: number, timeoutMs: number): Promise<number> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        clearInterval(poll);
        resolve(Math.round(performance.now() - startedAt));
        return;
      }
      if (performance.now() - startedAt > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`process ${pid} still runs after ${timeoutMs} ms`));
      }
    }, 20);
  });
}

describe.each<Mode>(["embedded", "redis"])("SIGTERM to the web process (%s mode)", (mode) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it("sends reconnect with reason shutdown to open streams, closes them and exits", async () => {
    app = await startApp(mode);
    const client = await ApiClient.guest(app.baseUrl);
    // One stream with a reply running and one idle stream (nothing to send, so no event yet).
    const sent = await client.send("/mock tokens=2000 tps=10 ttft=0\nA long reply, please.");
    const busy = await openSse(client, sent.streamUrl);
    await busy.waitFor((event) => event.event === "chunk");
    const idle = await openSse(client, "/api/chat/stream");
    expect([busy.status, idle.status]).toEqual([200, 200]);

    const pid = app.pids().web;
    if (pid === undefined) throw new Error("no web process");
    const signalledAt = performance.now();
    process.kill(pid, "SIGTERM");

    for (const stream of [busy, idle]) {
      const events = await stream.ended;
      expect(events.at(-1)).toEqual({ event: "reconnect", id: undefined, data: { reason: "shutdown" } });
    }
    const closedMs = Math.round(performance.now() - signalledAt);
    const exitMs = await exited(pid, 10_000);
    console.info(`${mode}: streams closed ${closedMs} ms after SIGTERM, process gone after ${exitMs} ms more`);
  });
});
