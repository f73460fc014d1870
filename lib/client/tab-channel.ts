import type { SessionSummary } from "../contract";
import type { ClientMessage } from "./chat-store";

// Tabs of one user tell each other what the stream does not carry: a message one of them sent
// (replies and stops reach every tab through each tab's own stream).
export type TabMessage = { type: "sent"; session: SessionSummary; messages: ClientMessage[] };

export function openTabChannel(
  userId: string,
  onMessage: (message: TabMessage) => void,
): { post(message: TabMessage): void; close(): void } {
  if (typeof BroadcastChannel === "undefined") return { post: () => {}, close: () => {} };
  const channel = new BroadcastChannel(`backchannel-${userId}`);
  channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
  return { post: (message) => channel.postMessage(message), close: () => channel.close() };
}
