import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient, isEnd } from "../support/client";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver";

// One turn's trace across the web app and the worker (Redis mode: two processes, two services),
// exported by OTLP/HTTP to a receiver here; and with OTEL_EXPORTER_OTLP_ENDPOINT unset, no span
// and no SDK at all.

const PROBE = path.resolve(import.meta.dirname, "../support/module-probe.cjs");
const SDK_PACKAGES = ["@opentelemetry/sdk-trace-node", "@opentelemetry/exporter-trace-otlp-http"];

/** Each process's packages, as tests/support/module-probe.cjs wrote them at its exit. */
function loadedPackages(dir: string): string[][] {
  return readdirSync(dir).map((file) => JSON.parse(readFileSync(path.join(dir, file), "utf8")) as string[]);
}

async function waitFor<T>(read: () => T | undefined, timeoutMs = 20_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("traces (Redis mode)", () => {
  let receiver: OtlpReceiver;
  let probeDir: string;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    probeDir = mkdtempSync(path.join(tmpdir(), "bc-probe-"));
    app = await startApp("redis", {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      NODE_OPTIONS: `--require ${PROBE}`,
      MODULE_PROBE_DIR: probeDir,
    });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
    rmSync(probeDir, { recursive: true, force: true });
  });

  it("follows one turn from the send through the job and the model call to the SSE delivery", async () => {
    if (!app) throw new Error("no app");
    const client = await ApiClient.guest(app.baseUrl);
    const sent = await client.send("/mock tokens=20 tps=200\nTrace me");
    const { events } = await client.readSse(sent.streamUrl);
    expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");

    // The turn's trace id is its correlation id; every span of it names the correlation id.
    const traceId = sent.correlationId.replaceAll("-", "");
    const names = ["POST /api/chat/messages", "enqueue reply", "generate-reply", "chat ", "sse delivery"];
    const find = (spans: ReceivedSpan[], prefix: string) => spans.find((span) => span.name.startsWith(prefix));
    const spans = await waitFor(() => {
      const ofTrace = receiver.spans.filter((span) => span.traceId === traceId);
      return names.every((name) => find(ofTrace, name)) ? ofTrace : undefined;
    });
    if (!spans) throw new Error(`no complete trace; spans: ${JSON.stringify(receiver.spans.map((s) => s.name))}`);
    const [send, enqueue, job, model, delivery] = names.map((name) => find(spans, name) as ReceivedSpan);

    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(["backchannel-web", "backchannel-worker"]));
    expect([send, enqueue, delivery].map((span) => span?.service)).toEqual(Array(3).fill("backchannel-web"));
    expect([job, model].map((span) => span?.service)).toEqual(["backchannel-worker", "backchannel-worker"]);
    for (const span of [send, enqueue, job, model, delivery]) {
      expect(span?.attributes["backchannel.correlation_id"]).toBe(sent.correlationId);
    }
    // send → enqueue → job (by the job's traceparent) → model call; the delivery hangs from the enqueue.
    expect(send?.parentSpanId).toBe("");
    expect(enqueue?.parentSpanId).toBe(send?.spanId);
    expect(job?.parentSpanId).toBe(enqueue?.spanId);
    expect(model?.parentSpanId).toBe(job?.spanId);
    expect(delivery?.parentSpanId).toBe(enqueue?.spanId);
    expect(model?.attributes["gen_ai.request.model"]).toBeTruthy();
    expect(model?.attributes["gen_ai.usage.output_tokens"]).toBe(20);
    expect(job?.attributes["backchannel.job_outcome"]).toBe("finished");
    expect(delivery?.events).toEqual(["first chunk", "done"]);
    // One delivery span for the reply, however many chunks it had.
    expect(spans.filter((span) => span.name === "sse delivery")).toHaveLength(1);
  });

  it("traces a regenerated reply as its own turn, from the regenerate request", async () => {
    if (!app) throw new Error("no app");
    const client = await ApiClient.guest(app.baseUrl);
    const first = await client.send("/mock tokens=5 tps=200\nAsk me twice");
    await client.readSse(first.streamUrl);
    const again = await client.json<{ correlationId: string; assistantMessageId: string; streamUrl: string }>(
      `/api/chat/regenerate/${first.sessionId}/${first.userMessageId}`,
      { method: "POST", body: JSON.stringify({ clientMessageId: randomUUID() }) },
    );
    expect(again.status).toBe(202);
    const { events } = await client.readSse(again.body.streamUrl);
    expect(events.find(isEnd(again.body.assistantMessageId))?.event).toBe("done");
    expect(again.body.correlationId).not.toBe(first.correlationId);

    const traceId = again.body.correlationId.replaceAll("-", "");
    const names = ["POST /api/chat/regenerate", "enqueue reply", "generate-reply", "chat ", "sse delivery"];
    const spans = await waitFor(() => {
      const ofTrace = receiver.spans.filter((span) => span.traceId === traceId);
      return names.every((name) => ofTrace.some((span) => span.name.startsWith(name))) ? ofTrace : undefined;
    });
    if (!spans) throw new Error("no complete trace of the regenerated reply");
    const regenerate = spans.find((span) => span.name === "POST /api/chat/regenerate");
    expect(regenerate?.parentSpanId).toBe("");
    expect(spans.find((span) => span.name === "enqueue reply")?.parentSpanId).toBe(regenerate?.spanId);
    for (const span of spans) expect(span.attributes["backchannel.correlation_id"]).toBe(again.body.correlationId);
  });

  it("sends the spans still batched when the processes get SIGTERM", async () => {
    if (!app) throw new Error("no app");
    const client = await ApiClient.guest(app.baseUrl);
    const sent = await client.send("/mock tokens=5 tps=200\nStop right after me");
    const { events } = await client.readSse(sent.streamUrl);
    expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");
    // At once: the batches (every 5 s) have not left yet; the shutdowns flush them.
    await app.stop();
    app = undefined;
    const traceId = sent.correlationId.replaceAll("-", "");
    const names = new Set(receiver.spans.filter((span) => span.traceId === traceId).map((span) => span.name));
    expect(names).toContain("sse delivery");
    expect(names).toContain("generate-reply");
    // Both processes had the SDK loaded (the probe's own check: the test below expects it absent).
    const withSdk = loadedPackages(probeDir).filter((list) => SDK_PACKAGES.every((name) => list.includes(name)));
    expect(withSdk).toHaveLength(2);
  });
});

describe("traces (embedded mode)", () => {
  let receiver: OtlpReceiver;
  let app: RunningApp;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    app = await startApp("embedded", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  it("carries the trace in the in-memory queue's job: one process, the same chain", async () => {
    const client = await ApiClient.guest(app.baseUrl);
    const sent = await client.send("/mock tokens=5 tps=200\nEmbedded trace");
    await client.readSse(sent.streamUrl);
    const traceId = sent.correlationId.replaceAll("-", "");
    const names = ["POST /api/chat/messages", "enqueue reply", "generate-reply", "chat ", "sse delivery"];
    const spans = await waitFor(() => {
      const ofTrace = receiver.spans.filter((span) => span.traceId === traceId);
      return names.every((name) => ofTrace.some((span) => span.name.startsWith(name))) ? ofTrace : undefined;
    });
    if (!spans) throw new Error("no complete trace in the embedded mode");
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(["backchannel-web"]));
    const byName = (name: string) => spans.find((span) => span.name.startsWith(name));
    expect(byName("generate-reply")?.parentSpanId).toBe(byName("enqueue reply")?.spanId);
    expect(byName("chat ")?.parentSpanId).toBe(byName("generate-reply")?.spanId);
  });
});

describe("traces off (Redis mode, OTEL_EXPORTER_OTLP_ENDPOINT unset)", () => {
  let receiver: OtlpReceiver;
  let probeDir: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    probeDir = mkdtempSync(path.join(tmpdir(), "bc-probe-"));
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(probeDir, { recursive: true, force: true });
  });

  it("exports no span and loads no SDK in the web app or the worker", async () => {
    // The exporter's own variable, which an SDK loaded by mistake would send to.
    const app = await startApp("redis", {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      NODE_OPTIONS: `--require ${PROBE}`,
      MODULE_PROBE_DIR: probeDir,
    });
    try {
      const client = await ApiClient.guest(app.baseUrl);
      const sent = await client.send("/mock tokens=10 tps=200\nNo traces");
      const { events } = await client.readSse(sent.streamUrl);
      expect(events.find(isEnd(sent.assistantMessageId))?.event).toBe("done");
    } finally {
      await app.stop();
    }
    const packages = loadedPackages(probeDir);
    // The migration, the web app and the worker each wrote theirs.
    expect(packages.length).toBeGreaterThanOrEqual(3);
    expect(packages.some((list) => list.includes("next"))).toBe(true);
    for (const list of packages) for (const name of SDK_PACKAGES) expect(list).not.toContain(name);
    expect(receiver.requests).toBe(0);
  });
});
