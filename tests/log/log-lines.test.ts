import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { addLogContext, createLogger, log, outsideLogContext, withLogContext } from "../../lib/log";

// The line every process writes: JSON with `time`, `level` by name and `msg`, the ids of the
// request or job it belongs to, and never a message's content, a cookie or a token.

const lines: Array<Record<string, unknown>> = [];
const collector = { write: (line: string) => void lines.push(JSON.parse(line)) };
const cache = globalThis as { __backchannelLogger?: unknown; __backchannelEnv?: unknown };

beforeEach(() => {
  lines.length = 0;
  process.env.LOG_LEVEL = "info";
  cache.__backchannelEnv = undefined;
  cache.__backchannelLogger = createLogger("info", collector);
});
afterAll(() => {
  cache.__backchannelLogger = undefined;
  cache.__backchannelEnv = undefined;
  delete process.env.LOG_LEVEL;
});

describe("log lines", () => {
  it("are JSON with an ISO time, the level by name and the message; debug is left out at info", () => {
    log.debug("not at info");
    log.info("reply completed", { attempt: 1 });
    log.error("request failed", { code: "internal_error" });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ level: "info", time: expect.any(String), msg: "reply completed", attempt: 1 });
    expect(new Date(String(lines[0]?.time)).toISOString()).toBe(lines[0]?.time);
    expect(lines[1]).toMatchObject({ level: "error", msg: "request failed" });
  });

  it("carry the ids of the context they were written in, a line's own fields first", async () => {
    const correlationId = crypto.randomUUID();
    const userId = crypto.randomUUID();
    const messageId = crypto.randomUUID();
    await withLogContext({ correlationId }, async () => {
      addLogContext({ userId });
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.info("accepted");
      addLogContext({ sessionId: "s1", messageId });
      log.warn("slow", { messageId: "own" });
    });
    log.info("outside");
    expect(lines[0]).toMatchObject({ msg: "accepted", correlationId, userId });
    expect(lines[0]).not.toHaveProperty("sessionId");
    expect(lines[1]).toMatchObject({ msg: "slow", correlationId, userId, sessionId: "s1", messageId: "own" });
    expect(Object.keys(lines[1] ?? {}).filter((key) => key === "messageId")).toHaveLength(1);
    expect(lines[2]).toEqual({ level: "info", time: expect.any(String), msg: "outside" });
  });

  it("name no request's ids for what outlives it (a shared connection's timers and events)", async () => {
    await withLogContext({ correlationId: crypto.randomUUID() }, async () => {
      outsideLogContext(() => setTimeout(() => log.info("later"), 1));
      setTimeout(() => log.info("inside"), 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    expect(lines.find((line) => line.msg === "later")).not.toHaveProperty("correlationId");
    expect(lines.find((line) => line.msg === "inside")).toHaveProperty("correlationId");
  });

  it("never hold content, parameters, cookies or authorization headers", () => {
    const secret = `zebra-quartz-${Date.now()}`;
    log.warn("odd request", {
      content: secret,
      params: [secret],
      headers: { cookie: `authjs.session-token=${secret}`, authorization: `Bearer ${secret}`, accept: "*/*" },
      job: { content: secret, token: secret },
    });
    expect(JSON.stringify(lines)).not.toContain(secret);
    expect(lines[0]).toMatchObject({ content: "[redacted]", headers: { accept: "*/*", cookie: "[redacted]" } });
  });
});
