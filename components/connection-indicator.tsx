"use client";

import type { ConnectionState } from "@/lib/client/chat-store";

const LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting",
  offline: "Offline — reading from cache",
  expired: "Session expired — sign in again",
  paused: "Paused while this chat is open in other tabs — click to resume",
};

export function ConnectionIndicator({ state, attempt }: { state: ConnectionState; attempt: number }) {
  const shown = state === "connecting" ? "reconnecting" : state;
  return (
    <div className={`connection connection-${state}`} data-connection={shown} role="status" aria-live="polite">
      <span className="dot" aria-hidden="true" />
      <span className="label">
        {LABELS[state]}
        {state === "reconnecting" && attempt > 0 ? ` (attempt ${attempt})` : ""}
      </span>
    </div>
  );
}
