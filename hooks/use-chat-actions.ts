"use client";

import { useRouter } from "next/navigation";
import { useCallback } from "react";
import { ApiError, api } from "@/lib/client/api";
import { type ChatStore, type ClientMessage, localMessage } from "@/lib/client/chat-store";
import { newId } from "@/lib/client/ids";
import type { SessionSummary } from "@/lib/contract";

const now = () => new Date().toISOString();

/** What a person can do: send, stop, retry, rename, delete. Every send carries a clientMessageId. */
export function useChatActions(store: ChatStore, openSessionId: string | null, reportError: (text: string) => void) {
  const router = useRouter();

  const send = useCallback(
    async (content: string, sessionId: string | null = openSessionId) => {
      const clientMessageId = newId();
      const pendingId = `pending:${clientMessageId}`;
      if (sessionId) {
        store.addMessages(sessionId, [localMessage(pendingId, sessionId, "user", content, "completed")]);
      }
      try {
        const accepted = await api.send({ sessionId: sessionId ?? undefined, content, clientMessageId });
        const target = accepted.sessionId;
        store.addMessages(
          target,
          [
            localMessage(accepted.userMessageId, target, "user", content, "completed"),
            localMessage(accepted.assistantMessageId, target, "assistant", "", "queued"),
          ],
          [pendingId],
        );
        const known = store.getSnapshot().sessions.find((s) => s.id === target);
        const title = known?.title ?? "New chat";
        store.upsertSession({
          id: target,
          title,
          createdAt: known?.createdAt ?? now(),
          updatedAt: now(),
          activeMessageId: accepted.assistantMessageId,
        });
        if (!sessionId) router.push(`/chat/${target}`);
        if (typeof Notification !== "undefined" && Notification.permission === "default")
          void Notification.requestPermission();
      } catch (error) {
        if (sessionId) store.addMessages(sessionId, [], [pendingId]);
        const wait =
          error instanceof ApiError && error.retryAfterSeconds ? ` Try again in ${error.retryAfterSeconds} s.` : "";
        reportError(`${error instanceof Error ? error.message : "Sending failed."}${wait}`);
        throw error;
      }
    },
    [store, openSessionId, router, reportError],
  );

  const stop = useCallback(
    async (message: ClientMessage) => {
      try {
        await api.cancel(message.sessionId, message.id);
      } catch (error) {
        reportError(error instanceof Error ? error.message : "Stopping failed.");
      }
    },
    [reportError],
  );

  /** Retry a failed reply: send the message it answered again. */
  const retry = useCallback(
    (message: ClientMessage) => {
      const list = store.getSnapshot().messages[message.sessionId] ?? [];
      const index = list.findIndex((m) => m.id === message.id);
      const question = list.slice(0, index).findLast((m) => m.role === "user");
      if (question) void send(question.content, message.sessionId).catch(() => {});
    },
    [store, send],
  );

  const rename = useCallback(
    async (session: SessionSummary) => {
      const title = window.prompt("Rename chat", session.title)?.trim();
      if (!title || title === session.title) return;
      try {
        store.upsertSession(await api.rename(session.id, title));
      } catch (error) {
        reportError(error instanceof Error ? error.message : "Renaming failed.");
      }
    },
    [store, reportError],
  );

  const remove = useCallback(
    async (session: SessionSummary) => {
      if (!window.confirm(`Delete “${session.title}”?`)) return;
      try {
        await api.remove(session.id);
        store.removeSession(session.id);
        if (session.id === openSessionId) router.push("/");
      } catch (error) {
        reportError(error instanceof Error ? error.message : "Deleting failed.");
      }
    },
    [store, openSessionId, router, reportError],
  );

  return { send, stop, retry, rename, remove };
}
