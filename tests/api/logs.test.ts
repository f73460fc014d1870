import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Mode, type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd } from "../support/client";
import { holdTableLock } from "../support/table-lock";

// What the web process and the worker write, at LOG_LEVEL=info with every statement over
// SLOW_QUERY_MS=0: JSON lines only, each naming the request's or job's ids, never a message's
// content, a statement's parameters or a cookie; Auth.js errors by their type; slow statements by
// name and duration. In the Redis mode a send that fails on a locked table is logged without the
// content its statement carried.

type Line = Record<string, unknown>;
const modes: Mode[] = ["embedded", "redis"];
const SLOW_QUERY_FIELDS = ["correlationId", "durationMs", "level", "messageId", "msg", "sessionId", "statement"];

// Next's own lines as it starts (its version, addresses, "✓ Ready"): the only ones not JSON.
const NEXT_BANNER = /^(▲ Next\.js|- (Local|Network|Environments?|Experiments)\b|✓ |$)/;

/** The app's log lines so far, parsed; every line but Next's banner must be JSON. */
function logLines(app: RunningApp): Line[] {
  const lines = app.output().map((line) => line.trim());
  expect(lines.filter((line) => !line.startsWith("{") && !NEXT_BANNER.test(line))).toEqual([]);
  return lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Line);
}

async function waitForLine(app: RunningApp, matches: (line: Line) => boolean): Promise<Line> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const line = logLines(app).find(matches);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("no such log line");
}

describe.each(modes)("log lines (%s mode)", (mode) => {
  let app: RunningApp;
  let client: ApiClient;
  const secret = `zebra-quartz-${randomUUID()}`;

  beforeAll(async () => {
    app = await startApp(mode, { LOG_LEVEL: "info", SLOW_QUERY_MS: "0", DB_LOCK_TIMEOUT_MS: "300" });
    client = await ApiClient.guest(app.baseUrl);
  });
  afterAll(() => app?.stop());

  it("name the send's and the reply's ids, slow statements by name, and never the content", async () => {
    const sent = await client.send(`/mock tokens=20 tps=400\n${secret}`);
    const { events } = await client.readSse(sent.streamUrl, { until: isEnd(sent.assistantMessageId) });
    expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");
    const ids = {
      correlationId: sent.correlationId,
      userId: client.userId,
      sessionId: sent.sessionId,
      messageId: sent.assistantMessageId,
    };
    const completed = await waitForLine(app, (line) => line.msg === "reply completed");
    expect(completed).toMatchObject({ level: "info", ...ids });
    const accepted = logLines(app).find((line) => line.msg === "message accepted");
    expect(accepted).toMatchObject({ level: "info", time: expect.any(String), ...ids });

    const lines = logLines(app);
    const slow = lines.filter((line) => line.msg === "slow query");
    // The send's statements (its transaction's too) and the worker's, each with the ids it knows.
    expect(slow.filter((line) => line.correlationId === sent.correlationId).length).toBeGreaterThan(3);
    const ofSend = slow.filter((line) => line.correlationId === sent.correlationId).map((line) => line.statement);
    // The turn's statement (the chat and both messages in one) and a prepared one by its name.
    expect(ofSend).toContain("with chat_sessions,messages");
    expect(ofSend).toContain("turn_by_client_message_id");
    const ofReply = slow.filter((line) => line.messageId === sent.assistantMessageId && line.userId === client.userId);
    // The worker's statements for the reply: the claim, the chunks' checkpoint, the completion.
    expect(ofReply.length).toBeGreaterThan(1);
    for (const line of ofReply) expect(line).toMatchObject(ids);
    for (const line of slow) {
      expect(line.level).toBe("warn");
      expect(line.statement).toMatch(/^[a-z_]+( [a-z_,]+)?$/);
      expect(line.durationMs).toEqual(expect.any(Number));
      expect(SLOW_QUERY_FIELDS.concat("time", "userId")).toEqual(expect.arrayContaining(Object.keys(line)));
    }
    expect(app.output().join("\n")).not.toContain(secret);
  });

  it("log an Auth.js error by its type, not its minified class name", async () => {
    const response = await fetch(`${app.baseUrl}/api/auth/session`, {
      headers: { cookie: `authjs.session-token=forged-${secret}` },
    });
    expect(response.status).toBe(200);
    const rejected = await waitForLine(app, (line) => String(line.msg).startsWith("auth "));
    expect(rejected).toMatchObject({ level: "warn", msg: "auth rejected a request", error: "JWTSessionError" });
    expect(app.output().join("\n")).not.toContain(secret);
  });

  it("log what a client's own request makes Auth.js refuse as a warning, not an error", async () => {
    const before = logLines(app).length;
    // A body that says it is JSON and is not, and a sign-out whose CSRF token is not the cookie's.
    const badJson = await fetch(`${app.baseUrl}/api/auth/signin/guest`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: app.baseUrl },
      body: "{not json",
    });
    expect(badJson.status).toBe(400);
    const badCsrf = await fetch(`${app.baseUrl}/api/auth/signout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.baseUrl },
      body: "csrfToken=forged",
      redirect: "manual",
    });
    await badCsrf.body?.cancel();
    const unknown = await fetch(`${app.baseUrl}/api/auth/no-such-action`);
    await unknown.body?.cancel();
    const ofAuth = () =>
      logLines(app)
        .slice(before)
        .filter((line) => String(line.msg).startsWith("auth "));
    await expect
      .poll(() => ofAuth().map((line) => line.error))
      .toEqual(["SyntaxError", "MissingCSRF", "UnknownAction"]);
    for (const line of ofAuth()) expect(line).toMatchObject({ level: "warn", msg: "auth rejected a request" });
  });

  // The app's Postgres is reachable from here in the Redis mode only (PGlite lives inside the app;
  // tests/db/query-logs.test.ts describes its failed statements).
  if (mode === "redis") {
    it("log a send whose statement fails without its content or parameters", async () => {
      // A constraint the send's insert breaks (23514): the content is among the statement's parameters.
      const admin = postgres(app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
      await admin.unsafe("alter table messages add constraint no_zebra check (content not like 'zebra-quartz-%')");
      const correlationId = randomUUID();
      try {
        const refused = await client.json("/api/chat/messages", {
          method: "POST",
          headers: { "x-correlation-id": correlationId },
          body: JSON.stringify({ content: secret, clientMessageId: randomUUID() }),
        });
        expect(refused.status).toBe(500);
      } finally {
        await admin.unsafe("alter table messages drop constraint no_zebra");
        await admin.end();
      }
      const failed = await waitForLine(
        app,
        (line) => line.msg === "request failed" && line.correlationId === correlationId,
      );
      expect(failed).toMatchObject({ level: "error", userId: client.userId, code: "internal_error" });
      expect(failed.error).toMatch(/^DatabaseError 23514 \(no_zebra\) in [a-z]+ [a-z_,]*messages/);
      expect(app.output().join("\n")).not.toContain(secret);
    });

    it("log a send that fails on a locked table without its content", async () => {
      const admin = postgres(app.env.DATABASE_URL ?? "", { max: 1, onnotice: () => {} });
      const release = await holdTableLock(admin, "messages");
      const correlationId = randomUUID();
      try {
        const refused = await client.json("/api/chat/messages", {
          method: "POST",
          headers: { "x-correlation-id": correlationId },
          body: JSON.stringify({ content: `locked out ${secret}`, clientMessageId: randomUUID() }),
        });
        expect(refused.status).toBe(503);
      } finally {
        await release();
        await admin.end();
      }
      const failed = await waitForLine(
        app,
        (line) => line.msg === "request failed" && line.correlationId === correlationId,
      );
      expect(failed).toMatchObject({ level: "error", userId: client.userId, code: "database_unavailable" });
      expect(failed.error).toBe("DatabaseError 55P03");
      expect(app.output().join("\n")).not.toContain(secret);
    });
  }
});
