import { connection } from "next/server";
import type { ReactNode } from "react";
import { ChatApp } from "@/components/chat-app";
import { env } from "@/lib/env";

// The chat shell stays mounted across chat switches, so its one SSE connection does too.
export default async function ChatLayout({ children }: { children: ReactNode }) {
  // Rendered per request, so the shell tells the client this deployment's MAX_ATTEMPTS (a retry
  // says "2 of 4"), not the one the build machine had.
  await connection();
  return <ChatApp maxAttempts={env().MAX_ATTEMPTS}>{children}</ChatApp>;
}
