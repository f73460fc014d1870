// Events this process received from the chunk store (Redis pub/sub, or the embedded store's bus),
// by type: a plain tally the web's metrics fold into a counter when they are read (lib/metrics.ts),
// so a received event costs one addition. On globalThis: Next bundles lib/ more than once.
const cache = globalThis as unknown as { __backchannelEventsReceived?: Record<string, number> };

export function eventsReceived(): Record<string, number> {
  cache.__backchannelEventsReceived ??= Object.create(null) as Record<string, number>;
  return cache.__backchannelEventsReceived;
}
