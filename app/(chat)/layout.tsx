import type { ReactNode } from "react";
import { ChatApp } from "@/components/chat-app";

// The chat shell stays mounted across chat switches, so its one SSE connection does too.
export default function ChatLayout({ children }: { children: ReactNode }) {
  return <ChatApp>{children}</ChatApp>;
}
