import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { ApiClient } from "../support/client";
import { expectOneFinishedReply, oneReplyDone, sample, scrapeWhen } from "../support/prometheus";

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
    const text = await scrapeWhen(`${app.baseUrl}/api/metrics`, TOKEN, oneReplyDone);
    expectOneFinishedReply(text);
    expect(sample(text, "backchannel_sse_delivery_seconds_count")).toBeGreaterThan(0);
    expect(sample(text, 'backchannel_sse_delivery_seconds_bucket{le="+Inf"}')).toBe(
      sample(text, "backchannel_sse_delivery_seconds_count"),
    );
    expect(sample(text, 'backchannel_store_events_received_total{type="chunk"}')).toBeGreaterThan(0);
    expect(sample(text, 'backchannel_store_events_received_total{type="done"}')).toBe(1);
  });
});
