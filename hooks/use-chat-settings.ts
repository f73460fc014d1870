"use client";

import { useCallback, useState } from "react";
import { api } from "@/lib/client/api";
import type { ChatStore } from "@/lib/client/chat-store";
import type { SessionSummary } from "@/lib/contract";
import { refusalSentence } from "./use-chat-actions";

export type SaveOutcome = { saved: true } | { saved: false; reason: string };

/**
 * The open chat's settings: its system prompt, saved with a PATCH. A new chat has no session to
 * patch yet, so its prompt waits here and goes with the first send (its first reply receives it).
 */
export function useChatSettings(store: ChatStore, sessions: SessionSummary[], openSessionId: string | null) {
  const [newChatPrompt, setNewChatPrompt] = useState("");
  const chatPrompt = sessions.find((s) => s.id === openSessionId)?.systemPrompt ?? "";

  const save = useCallback(
    async (prompt: string): Promise<SaveOutcome> => {
      if (!openSessionId) {
        setNewChatPrompt(prompt.trim());
        return { saved: true };
      }
      try {
        const { systemPrompt } = await api.setSystemPrompt(openSessionId, prompt);
        store.setSystemPrompt(openSessionId, systemPrompt);
        return { saved: true };
      } catch (error) {
        return { saved: false, reason: refusalSentence(error) };
      }
    },
    [store, openSessionId],
  );

  // Used once, by the chat it starts: the next new chat starts without one.
  const clearNewChatPrompt = useCallback(() => setNewChatPrompt(""), []);

  return {
    systemPrompt: openSessionId ? chatPrompt : newChatPrompt,
    /** What a send from the new-chat screen carries (undefined in a chat that exists, or none set). */
    newChatPrompt: openSessionId ? undefined : newChatPrompt || undefined,
    save,
    clearNewChatPrompt,
  };
}
