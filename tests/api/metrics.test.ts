import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { sample, scrape } from "../support/prometheus";

// The embedded mode runs the worker in the web process: /api/metrics serves the worker's series
// (queue wait, model, replies) along with the web's (readers, events, delivery, the queue).

const TOKEN = "embedded-token";

describe("/api/metrics in the embedded mode", () => {
  let app: RunningApp;
  let client: ApiClient;

  beforeAll(async () => {
    app = await startApp("embedded", { METRICS_TOKEN: TOKEN });
    client = await ApiClient.guest(app.baseUrl);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("serves the web's and the in-process worker's series after one reply", async () => {
    const sent = await client.send("/mock tokens=30 tps=30\nmeasure me here");
    const { events } = await client.readSse(sent.streamUrl, { lastEventId: `${sent.assistantMessageId}:0:0` });
    expect(events.at(-1)?.event).toBe("done");
    let text = "";
    const deadline = Date.now() + 10_000;
    do {
      text = (await scrape(`${app.baseUrl}/api/metrics`, TOKEN)).text;
    } while (sample(text, 'backchannel_replies_total{status="done"}') !== 1 && Date.now() < deadline);

    expect(sample(text, 'backchannel_replies_total{status="done"}')).toBe(1);
    expect(sample(text, 'backchannel_model_tokens_total{direction="output"}')).toBeGreaterThan(0);
    expect(sample(text, "backchannel_queue_wait_seconds_count")).toBe(1);
    expect(sample(text, "backchannel_model_first_token_seconds_count")).toBe(1);
    expect(sample(text, 'backchannel_model_call_seconds_count{outcome="completed"}')).toBe(1);
    expect(sample(text, "backchannel_worker_running_replies")).toBe(0);
    expect(sample(text, 'backchannel_queue_jobs{state="waiting"}')).toBe(0);
    expect(sample(text, "backchannel_queue_oldest_waiting_seconds")).toBe(0);
    expect(sample(text, "backchannel_sse_delivery_seconds_count")).toBeGreaterThan(0);
    expect(sample(text, 'backchannel_sse_delivery_seconds_bucket{le="+Inf"}')).toBe(
      sample(text, "backchannel_sse_delivery_seconds_count"),
    );
    expect(sample(text, 'backchannel_store_events_received_total{type="chunk"}')).toBeGreaterThan(0);
    expect(sample(text, 'backchannel_store_events_received_total{type="done"}')).toBe(1);
  });
});
