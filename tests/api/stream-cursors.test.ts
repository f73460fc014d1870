import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd, textOf } from "../support/client";

const modes: Mode[] = ["embedded", "redis", "cluster"];

describe.each(modes)("stream cursors and connection lifetime (%s mode)", (mode) => {
  let app: RunningApp;
  let client: ApiClient;

  beforeAll(async () => {
    app = await startApp(mode, { MAX_SSE_SECONDS: "3", SSE_HEARTBEAT_MS: "400", FLUSH_INTERVAL_MS: "2" });
    client = await ApiClient.guest(app.baseUrl);
  });
  afterAll(() => app?.stop());

  const stored = async (statusUrl: string) => (await client.json<Record<string, unknown>>(statusUrl)).body;

  it("continues a cursor of an older attempt inside the kept text: no reset, the chunks after it", async () => {
    const sent = await client.send("/mock fail=once tokens=80 tps=200\nretry me");
    const { events } = await client.readSse(sent.streamUrl);
    expect(events.at(-1)?.event).toBe("done");
    const rest = await client.readSse(sent.streamUrl, { lastEventId: `${sent.assistantMessageId}:1:2` });
    expect(rest.events[0]).toMatchObject({ event: "status", data: { attempt: 2, continued: true } });
    expect(rest.events.some((e) => e.event === "reset")).toBe(false);
    const seqs = rest.events.filter((e) => e.event === "chunk").map((e) => Number(e.data.seq));
    expect(seqs[0]).toBe(3);
    const rested = textOf(rest.events, sent.assistantMessageId);
    expect(rested.length).toBeGreaterThan(0);
    expect(String((await stored(sent.statusUrl)).content).endsWith(rested)).toBe(true);
  });

  it("resumes into a fast reply many times with no duplicate: live chunks wait behind the replay", async () => {
    const sent = await client.send("/mock tokens=20000 tps=2000 ttft=0\nfast writer");
    let lastId: string | undefined;
    const seen: number[] = [];
    for (let round = 0; round < 40; round++) {
      const part = await client.readSse(sent.streamUrl, {
        lastEventId: lastId,
        until: (_e, all) => all.filter((x) => x.event === "chunk").length >= 3 || isEnd(sent.assistantMessageId)(_e),
      });
      const chunks = part.events.filter((e) => e.event === "chunk");
      seen.push(...chunks.map((e) => Number(e.data.seq)));
      lastId = chunks.at(-1)?.id ?? lastId;
    }
    expect(seen).toEqual(seen.map((_, i) => i + 1));
    await client.json(`/api/chat/cancel/${sent.sessionId}/${sent.assistantMessageId}`, { method: "POST" });
  });

  it("sends a snapshot of the whole text to a cursor it cannot place", async () => {
    const sent = await client.send("/mock tokens=30 tps=300\nplace me");
    await client.readSse(sent.streamUrl);
    const rest = await client.readSse(sent.streamUrl, { lastEventId: `${sent.assistantMessageId}:1:9999` });
    expect(rest.events.map((e) => e.event)).toEqual(["snapshot", "done"]);
    expect(rest.events[0]?.data.content).toBe((await stored(sent.statusUrl)).content);
    expect(rest.events[0]?.id).toMatch(new RegExp(`^${sent.assistantMessageId}:1:\\d+$`));
  });

  it("sends nothing of another user's reply named by a cursor, even one in the same session path", async () => {
    const alice = await ApiClient.guest(app.baseUrl);
    const hers = await alice.send("/mock tokens=30 tps=300\nalice's secret");
    await alice.readSse(hers.streamUrl);
    const mine = await client.send("/mock tokens=30 tps=300\nbob's own");
    for (const lastEventId of [`${hers.assistantMessageId}:1:1`, `${hers.assistantMessageId}:1:0`]) {
      // Bob's session with Alice's cursor: Bob's running or finished reply only, never hers.
      const { events } = await client.readSse(mine.streamUrl, { lastEventId });
      expect(events.some((e) => e.data.messageId === hers.assistantMessageId)).toBe(false);
      // Alice's session with her own cursor, read by Bob: 404.
      const theirs = await client.fetch(hers.streamUrl, { headers: { "last-event-id": lastEventId } });
      expect(theirs.status).toBe(404);
    }
  });

  it("ignores cursors that do not parse and streams from the first event", async () => {
    const sent = await client.send("/mock tokens=40 tps=100 ttft=300\nbad cursor");
    const { status, events } = await client.readSse(sent.streamUrl, { lastEventId: "not-a-cursor" });
    expect(status).toBe(200);
    expect(events[0]).toMatchObject({ event: "status", data: { messageId: sent.assistantMessageId } });
    expect(textOf(events, sent.assistantMessageId)).toBe((await stored(sent.statusUrl)).content);
  });

  it("resumes several replies at once from ?cursors= on the all-sessions stream", async () => {
    const a = await client.send("/mock tokens=200 tps=100\nfirst chat");
    const b = await client.send("/mock tokens=200 tps=100\nsecond chat");
    const first = await client.readSse("/api/chat/stream", {
      until: (_e, all) =>
        [a, b].every(
          (s) => all.filter((x) => x.event === "chunk" && x.data.messageId === s.assistantMessageId).length >= 2,
        ),
    });
    const lastIdOf = (id: string) =>
      first.events.filter((e) => e.event === "chunk" && e.data.messageId === id).at(-1)?.id;
    const cursors = [lastIdOf(a.assistantMessageId), lastIdOf(b.assistantMessageId), "junk"].join(",");
    const pending = new Set([a.assistantMessageId, b.assistantMessageId]);
    const rest = await client.readSse(`/api/chat/stream?cursors=${cursors}`, {
      until: (event) => {
        if (event.event === "done") pending.delete(String(event.data.messageId));
        return pending.size === 0;
      },
    });
    for (const sent of [a, b]) {
      const all = [...first.events, ...rest.events];
      const seqs = all
        .filter((e) => e.event === "chunk" && e.data.messageId === sent.assistantMessageId)
        .map((e) => Number(e.data.seq));
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(textOf(all, sent.assistantMessageId)).toBe((await stored(sent.statusUrl)).content);
    }
  });

  it("keeps the chunked body well formed while live events and heartbeats interleave (raw socket)", async () => {
    const { host, port } = new URL(app.baseUrl);
    const socket = connect(Number(port), host.split(":")[0] ?? "127.0.0.1");
    let raw = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      raw = Buffer.concat([raw, data]);
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(`GET /api/chat/stream HTTP/1.1\r\nHost: ${host}\r\nCookie: ${client.cookie}\r\n\r\n`);
    // 2 s of chunks, with a heartbeat every 400 ms in between.
    const sent = await client.send("/mock tokens=40 tps=20 ttft=0\nframe me");
    const endMark = `id: ${sent.assistantMessageId}:`;
    const deadline = Date.now() + 15_000;
    let body = "";
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const split = raw.indexOf("\r\n\r\n");
      if (split < 0) continue;
      expect(raw.subarray(0, split).toString()).toMatch(/^HTTP\/1\.1 200[\s\S]*transfer-encoding: chunked/i);
      body = dechunk(raw.subarray(split + 4));
      if (body.includes("event: done\n") && body.includes(endMark)) break;
    }
    socket.destroy();
    const events = body.split("\n\n").filter((block) => block.includes(`"messageId":"${sent.assistantMessageId}"`));
    const chunks = events.filter((block) => block.startsWith("event: chunk\n"));
    const data = chunks.map(
      (block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)) as { seq: number; text: string },
    );
    expect(data.map((chunk) => chunk.seq)).toEqual(data.map((_, i) => i + 1));
    expect(data.map((chunk) => chunk.text).join("")).toBe((await stored(sent.statusUrl)).content);
    expect(events.at(-1)).toMatch(/^event: done\n/);
    expect(body).toContain(": hb\n\n");
  });

  it("sends heartbeats, and a reconnect event before closing at MAX_SSE_SECONDS", async () => {
    const startedAt = Date.now();
    const response = await client.fetch("/api/chat/stream");
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    const text = await response.text();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2_900);
    expect(text.match(/^: hb$/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
    expect(text.trimEnd().endsWith('event: reconnect\ndata: {"reason":"time_limit"}')).toBe(true);
  });

  it("answers 204 to a client that comes back with the id of a reply's end", async () => {
    const sent = await client.send("/mock tokens=30 tps=300 ttft=200\nall of it");
    const { events } = await client.readSse(sent.streamUrl);
    const end = events.at(-1);
    expect(end?.event).toBe("done");
    expect(end?.id).toMatch(new RegExp(`^${sent.assistantMessageId}:1:\\d+:end$`));
    const again = await client.readSse(sent.streamUrl, { lastEventId: end?.id });
    expect(again.status).toBe(204);
  });

  it("tells a reply's end only once and nothing of it after", async () => {
    const sent = await client.send("/mock tokens=50 tps=500\nend once");
    const { events } = await client.readSse(sent.streamUrl);
    const endAt = events.findIndex(isEnd(sent.assistantMessageId));
    expect(endAt).toBe(events.length - 1);
  });
});

/** An HTTP/1.1 chunked body, read strictly: every size line must match its chunk. Stops at a partial chunk. */
function dechunk(bytes: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const lineEnd = bytes.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const sizeLine = bytes.subarray(at, lineEnd).toString();
    if (!/^[0-9a-f]+$/i.test(sizeLine)) throw new Error(`bad chunk size line ${JSON.stringify(sizeLine)}`);
    const size = Number.parseInt(sizeLine, 16);
    const start = lineEnd + 2;
    if (start + size + 2 > bytes.length) break;
    if (bytes.subarray(start + size, start + size + 2).toString() !== "\r\n") throw new Error("chunk without its CRLF");
    parts.push(bytes.subarray(start, start + size));
    at = start + size + 2;
    if (size === 0) break;
  }
  return Buffer.concat(parts).toString();
}
