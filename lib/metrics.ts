import "server-only";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { registerQueueGauges, TallyHistogram } from "./ops/prom";
import { getReplyQueue } from "./queue/index";
import { eventsReceived } from "./streams/tally";

// One registry per process, kept on globalThis so dev hot reload does not register twice.
function createMetrics() {
  const registry = new Registry();
  // SSE events are counted for every reader of every event: a plain tally here, handed to the
  // counter when it is read, costs a fraction of a labelled counter's inc() each time.
  const sseEventsSent: Record<string, number> = Object.create(null);
  const received = eventsReceived();
  collectDefaultMetrics({ register: registry, prefix: "backchannel_" });
  // The web reads the queue as the worker does (BullMQ's counts, or the embedded queue).
  registerQueueGauges(registry, () => getReplyQueue().stats());
  return {
    registry,
    sendsAccepted: new Counter({
      name: "backchannel_sends_accepted_total",
      help: "Messages accepted (202)",
      registers: [registry],
    }),
    sendsRefused: new Counter({
      name: "backchannel_sends_refused_total",
      help: "Sends refused, by error code",
      labelNames: ["code"],
      registers: [registry],
    }),
    sseConnections: new Gauge({
      name: "backchannel_sse_connections",
      help: "Open SSE connections",
      registers: [registry],
    }),
    sseEvents: new Counter({
      name: "backchannel_sse_events_total",
      help: "SSE events sent",
      labelNames: ["type"],
      registers: [registry],
      collect() {
        for (const type of Object.keys(sseEventsSent)) {
          this.inc({ type }, sseEventsSent[type]);
          delete sseEventsSent[type];
        }
      },
    }),
    /** SSE events sent by type, not yet added to `sseEvents`: `sseEventsSent[type]++`. */
    sseEventsSent,
    storeEvents: new Counter({
      name: "backchannel_store_events_received_total",
      help: "Reply events this process received from the chunk store (pub/sub), by type",
      labelNames: ["type"],
      registers: [registry],
      collect() {
        for (const type of Object.keys(received)) {
          this.inc({ type }, received[type]);
          delete received[type];
        }
      },
    }),
    /**
     * From the worker's write of a chunk (its batch's time, carried in the event as `ts`) to its
     * write to a live reader's socket, once per reader. Across hosts it includes their clock skew.
     */
    deliveryLatency: new TallyHistogram(
      "backchannel_sse_delivery_seconds",
      "From the worker's write of a chunk to its SSE write to a live reader",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registry,
    ),
    sendLatency: new Histogram({
      name: "backchannel_send_seconds",
      help: "Time to answer a send",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}

const cache = globalThis as unknown as { __backchannelMetrics?: ReturnType<typeof createMetrics> };

export function metrics() {
  cache.__backchannelMetrics ??= createMetrics();
  return cache.__backchannelMetrics;
}
