import "server-only";

// The open SSE connections of this process, so that the whole process can end them with a
// `reconnect` event: on SIGTERM (Next's own handler then waits for open requests before it exits,
// and an SSE connection left open would hold it for up to MAX_SSE_SECONDS) and when Redis is lost
// (no live event can arrive any more; clients come back with their cursors). Kept on globalThis:
// instrumentation.ts and the stream routes are separate bundles, each with its own copy of a module.

/** Why the server ends a connection, as sent in the `reconnect` event's `reason`. */
export type ReconnectReason = "time_limit" | "shutdown" | "store_unreachable" | "superseded";

type Closer = (reason: ReconnectReason) => void;

interface Registry {
  open: Set<Closer>;
  shuttingDown: boolean;
  signalsHandled: boolean;
}

const state = globalThis as unknown as { __backchannelSseConnections?: Registry };

function registry(): Registry {
  state.__backchannelSseConnections ??= { open: new Set(), shuttingDown: false, signalsHandled: false };
  return state.__backchannelSseConnections;
}

/**
 * Registers an open connection; `closer` sends `reconnect` with the reason and ends it. Returns the
 * unregister. A connection that opens during a shutdown is ended at once.
 */
export function trackConnection(closer: Closer): () => void {
  const connections = registry();
  connections.open.add(closer);
  if (connections.shuttingDown) queueMicrotask(() => closer("shutdown"));
  return () => {
    connections.open.delete(closer);
  };
}

/** Ends every open connection with `reconnect` and `reason`. */
export function closeAllConnections(reason: ReconnectReason): number {
  const open = [...registry().open];
  for (const closer of open) closer(reason);
  return open.length;
}

/**
 * On SIGTERM or SIGINT, ends every open connection with `reconnect` `shutdown`. It only ends
 * connections: exiting stays with Next's own handler (and the embedded worker's), which run too.
 */
export function closeConnectionsOnShutdown(): void {
  const connections = registry();
  if (connections.signalsHandled) return;
  connections.signalsHandled = true;
  const shutdown = () => {
    connections.shuttingDown = true;
    closeAllConnections("shutdown");
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
