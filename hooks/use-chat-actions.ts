"use client";

import { useCallback } from "react";
import type { ChatCache, OutboxEntry } from "@/lib/cache/chat-cache";
import { ApiError, api } from "@/lib/client/api";
import { leafUnder, versionsOf } from "@/lib/client/branches";
import { type ChatStore, type ClientMessage, localMessage } from "@/lib/client/chat-store";
import { newId } from "@/lib/client/ids";
import { navigate } from "@/lib/client/navigate";
import type { TabMessage } from "@/lib/client/tab-channel";
import type { SessionSummary } from "@/lib/contract";

const now = () => new Date().toISOString();

/** What became of a send: taken (by the server, or the outbox while offline), or refused and why. */
export type SendOutcome = { sent: true } | { sent: false; reason: string };

/** Why a send was refused, in the server's words (and when to try again, if it said). */
export function refusalSentence(error: unknown): string {
  if (!(error instanceof ApiError)) return "The server could not be reached. Check the connection and send again.";
  return error.retryAfterSeconds ? `${error.message} Try again in ${error.retryAfterSeconds} s.` : error.message;
}

/** What a person can do: send, stop, regenerate (and retry), choose a version, rename, delete. Every send carries a clientMessageId. */
export function useChatActions(
  store: ChatStore,
  cache: ChatCache | null,
  openSessionId: string | null,
  reportError: (text: string) => void,
  tellOtherTabs: (message: TabMessage) => void = () => {},
) {
  /** Sends one message (again, with the same clientMessageId, when it comes from the outbox). */
  const deliver = useCallback(
    async (entry: OutboxEntry) => {
      const pendingId = `pending:${entry.clientMessageId}`;
      const accepted = await api.send({
        sessionId: entry.sessionId ?? undefined,
        content: entry.content,
        clientMessageId: entry.clientMessageId,
        ...(entry.model ? { model: entry.model } : {}),
        ...(entry.systemPrompt ? { systemPrompt: entry.systemPrompt } : {}),
      });
      const target = accepted.sessionId;
      if (!entry.sessionId) store.markLoaded(target);
      store.addMessages(
        target,
        [
          localMessage(accepted.userMessageId, target, "user", entry.content, "completed"),
          localMessage(accepted.assistantMessageId, target, "assistant", "", "queued"),
        ],
        [pendingId],
      );
      const known = store.getSnapshot().sessions.find((s) => s.id === target);
      const session: SessionSummary = {
        id: target,
        title: known?.title ?? "New chat",
        createdAt: known?.createdAt ?? now(),
        updatedAt: now(),
        activeMessageId: accepted.assistantMessageId,
      };
      // A new chat has the prompt its first send carried; a known one keeps its own.
      const systemPrompt = known ? known.systemPrompt : entry.systemPrompt?.trim();
      if (systemPrompt) session.systemPrompt = systemPrompt;
      store.upsertSession(session);
      const messages = [
        localMessage(accepted.userMessageId, target, "user", entry.content, "completed"),
        localMessage(accepted.assistantMessageId, target, "assistant", "", "queued"),
      ];
      tellOtherTabs({ type: "sent", session, messages });
      return accepted;
    },
    [store, tellOtherTabs],
  );

  /**
   * Sends a message, or keeps it in the outbox while offline. A refusal (413, 404, 429, 400, or no
   * server and no outbox) comes back as the sentence to show, so the caller can keep the draft.
   */
  const send = useCallback(
    async (
      content: string,
      sessionId: string | null = openSessionId,
      model?: string,
      /** A new chat's system prompt (ignored for a chat that exists: it changes with a PATCH). */
      systemPrompt?: string,
    ): Promise<SendOutcome> => {
      const entry: OutboxEntry = {
        clientMessageId: newId(),
        sessionId,
        content,
        createdAt: Date.now(),
        ...(model ? { model } : {}),
        ...(systemPrompt && !sessionId ? { systemPrompt } : {}),
      };
      const pendingId = `pending:${entry.clientMessageId}`;
      const toOutbox = async (waitsFor: "network" | "sign-in" = "network") => {
        // No network, or no session (it expired): keep the message, marked as waiting, and send it
        // (once) when the network returns or the person has signed in again.
        if (!sessionId || !cache) return false;
        await cache.addToOutbox(entry);
        const waiting = { ...localMessage(pendingId, sessionId, "user", content, "queued"), waitsFor };
        store.addMessages(sessionId, [waiting], [pendingId]);
        return true;
      };
      if (!navigator.onLine && (await toOutbox())) return { sent: true };
      if (sessionId) store.addMessages(sessionId, [localMessage(pendingId, sessionId, "user", content, "completed")]);
      try {
        const accepted = await deliver(entry);
        if (!sessionId) navigate(`/chat/${accepted.sessionId}`);
        if (typeof Notification !== "undefined" && Notification.permission === "default") {
          void Notification.requestPermission();
        }
        return { sent: true };
      } catch (error) {
        if (!(error instanceof ApiError) && (await toOutbox())) return { sent: true };
        if (error instanceof ApiError && error.status === 401 && (await toOutbox("sign-in"))) return { sent: true };
        if (sessionId) store.addMessages(sessionId, [], [pendingId]);
        return { sent: false, reason: refusalSentence(error) };
      }
    },
    [store, cache, deliver, openSessionId],
  );

  /**
   * Sends what waited in the outbox, oldest first; stops at the first network failure, and at a
   * 401 (the session expired: the sends wait for the next sign-in).
   */
  const flushOutbox = useCallback(async () => {
    if (!cache) return;
    for (const entry of await cache.getOutbox()) {
      try {
        await deliver(entry);
        await cache.removeFromOutbox(entry.clientMessageId);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status === 401) return;
        // Refused for good (e.g. the chat was deleted): drop it and say so.
        await cache.removeFromOutbox(entry.clientMessageId);
        if (entry.sessionId) store.addMessages(entry.sessionId, [], [`pending:${entry.clientMessageId}`]);
        reportError(`A message that was waiting to be sent could not be sent: ${error.message}`);
      }
    }
  }, [cache, deliver, store, reportError]);

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

  /**
   * A new version of a reply, beside the earlier ones (also Retry on a failed reply: the question
   * is not asked twice). It becomes the visible branch; the stream brings its text.
   */
  const regenerate = useCallback(
    async (message: ClientMessage) => {
      const list = store.getSnapshot().messages[message.sessionId] ?? [];
      // Its question: its parent, or in a chat known only flat the user message before it.
      const index = list.findIndex((m) => m.id === message.id);
      const questionId = message.parentId ?? list.slice(0, index).findLast((m) => m.role === "user")?.id;
      if (!questionId) return;
      try {
        const accepted = await api.regenerate(message.sessionId, questionId, newId());
        const reply = localMessage(accepted.assistantMessageId, message.sessionId, "assistant", "", "queued");
        store.addMessages(message.sessionId, [{ ...reply, parentId: questionId }]);
        store.setLeaf(message.sessionId, accepted.assistantMessageId);
        // The server's tree, so a chat known flat (cached before branches) shows its branches right.
        const listed = await api.listMessages(message.sessionId);
        store.setMessages(message.sessionId, listed.messages, listed.activeLeafId);
      } catch (error) {
        reportError(refusalSentence(error));
      }
    },
    [store, reportError],
  );

  /**
   * Sends `content` as a new version of a sent message: beside it (the same parent), with its own
   * reply, which becomes the visible branch. False (and the reason said) when it was refused.
   */
  const edit = useCallback(
    async (message: ClientMessage, content: string): Promise<boolean> => {
      const { sessionId } = message;
      try {
        let parentMessageId = message.parentId;
        if (parentMessageId === undefined) {
          // A chat known flat (cached before branches): its tree from the server first.
          const listed = await api.listMessages(sessionId);
          store.setMessages(sessionId, listed.messages, listed.activeLeafId);
          parentMessageId = listed.messages.find((m) => m.id === message.id)?.parentId ?? null;
        }
        const accepted = await api.send({ sessionId, content, clientMessageId: newId(), parentMessageId });
        const asked = localMessage(accepted.userMessageId, sessionId, "user", content, "completed");
        const reply = localMessage(accepted.assistantMessageId, sessionId, "assistant", "", "queued");
        store.addMessages(sessionId, [
          { ...asked, parentId: parentMessageId },
          { ...reply, parentId: accepted.userMessageId },
        ]);
        store.setLeaf(sessionId, accepted.assistantMessageId);
        return true;
      } catch (error) {
        reportError(refusalSentence(error));
        return false;
      }
    },
    [store, reportError],
  );

  /** Shows the version before or after this one (and the newest branch under it); the server remembers it. */
  const chooseVersion = useCallback(
    (message: ClientMessage, step: -1 | 1) => {
      const list = store.getSnapshot().messages[message.sessionId] ?? [];
      const { ids, index } = versionsOf(list, message);
      const target = ids[index + step];
      if (!target) return;
      const leaf = leafUnder(list, target);
      store.setLeaf(message.sessionId, leaf);
      api.setLeaf(message.sessionId, leaf).catch((error: unknown) => reportError(refusalSentence(error)));
    },
    [store, reportError],
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
        void cache?.deleteSession(session.id);
        if (session.id === openSessionId) navigate("/");
      } catch (error) {
        reportError(error instanceof Error ? error.message : "Deleting failed.");
      }
    },
    [store, cache, openSessionId, reportError],
  );

  return { send, flushOutbox, stop, regenerate, edit, chooseVersion, rename, remove };
}
