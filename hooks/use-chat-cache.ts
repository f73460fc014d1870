"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { ChatCache } from "@/lib/cache/chat-cache";
import type { ChatStore, ClientMessage } from "@/lib/client/chat-store";

const WRITE_DELAY_MS = 250;

/** Writes what changed in the store to IndexedDB, a moment after it changed. */
function persist(store: ChatStore, cache: ChatCache): () => void {
  const initial = store.getSnapshot();
  let writtenSessions = initial.sessions;
  // What IndexedDB holds for each chat: the base the next write is a diff against. Lists of chats
  // not loaded yet were never written, so they are not in here.
  const writtenMessages = new Map<string, ClientMessage[]>();
  for (const [sessionId, messages] of Object.entries(initial.messages)) {
    if (store.isLoaded(sessionId)) writtenMessages.set(sessionId, messages);
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    const state = store.getSnapshot();
    if (state.sessions !== writtenSessions && state.sessions.length > 0) {
      // Only the chats this tab saw leave its list are dropped from the cache.
      const now = new Set(state.sessions.map((s) => s.id));
      const removed = writtenSessions.filter((s) => !now.has(s.id)).map((s) => s.id);
      void cache.putSessions(state.sessions, store.openSessionId, removed);
      writtenSessions = state.sessions;
    }
    for (const [sessionId, messages] of Object.entries(state.messages)) {
      const before = writtenMessages.get(sessionId);
      // A chat known only from stream events would overwrite its cached history: wait until loaded.
      if (messages === before || !store.isLoaded(sessionId)) continue;
      void cache.updateMessages(sessionId, messages, before);
      writtenMessages.set(sessionId, messages);
    }
  };
  const unsubscribe = store.subscribe(() => {
    timer ??= setTimeout(flush, WRITE_DELAY_MS);
  });
  const onHide = () => document.visibilityState === "hidden" && flush();
  document.addEventListener("visibilitychange", onHide);
  return () => {
    unsubscribe();
    document.removeEventListener("visibilitychange", onHide);
    if (timer) clearTimeout(timer);
  };
}

/**
 * Opens the user's IndexedDB cache and fills the store from it before anything else runs: the
 * sidebar and the open chat render at once, and every reply that was running resumes from the
 * cursor it had (so a reload continues a reply instead of starting it over).
 */
export function useChatCache(userId: string | null, store: ChatStore, openSessionId: string | null) {
  const [cache, setCache] = useState<ChatCache | null>(null);
  const [ready, setReady] = useState(false);
  // The chat open when the cache opens is loaded first; later switches load through the effect below.
  const openAtStart = useRef(openSessionId);
  const cacheUser = useRef<string | null>(null);
  openAtStart.current = openSessionId;

  useEffect(() => {
    if (!userId) return;
    if (cacheUser.current && cacheUser.current !== userId) store.reset();
    cacheUser.current = userId;
    setReady(false);
    let closed = false;
    let stopPersisting = () => {};
    let opened: ChatCache | null = null;
    (async () => {
      try {
        opened = await ChatCache.open(userId);
        // The open chat is read beside the list, not after it: one IndexedDB round trip less before
        // its messages show.
        const openId = openAtStart.current;
        const [sessions, streams, openMessages] = await Promise.all([
          opened.getSessions(),
          opened.getActiveStreams(),
          openId ? opened.getMessages(openId) : [],
        ]);
        if (closed) return;
        store.hydrateSessions(sessions);
        if (openId) store.hydrateMessages(openId, openMessages);
        const toLoad = new Set(streams.map((s) => s.sessionId));
        if (openId) toLoad.delete(openId);
        for (const sessionId of toLoad) store.hydrateMessages(sessionId, await opened.getMessages(sessionId));
        stopPersisting = persist(store, opened);
        void opened.prune();
        setCache(opened);
      } catch {
        // No IndexedDB (private mode, old browser): the app works without a cache.
      }
      if (!closed) setReady(true);
    })();
    return () => {
      closed = true;
      stopPersisting();
      opened?.close();
    };
  }, [userId, store]);

  // A chat's cached messages, read once however many ask (a click on it, then its opening).
  const reading = useRef(new Set<string>());
  const readChat = useCallback(
    (sessionId: string) => {
      if (!cache || store.isLoaded(sessionId) || reading.current.has(sessionId)) return;
      reading.current.add(sessionId);
      void cache
        .getMessages(sessionId)
        .then((messages) => store.hydrateMessages(sessionId, messages))
        .finally(() => reading.current.delete(sessionId));
    },
    [cache, store],
  );

  useEffect(() => {
    if (!cache || !openSessionId) return;
    void cache.touchSession(openSessionId);
    readChat(openSessionId);
  }, [cache, openSessionId, readChat]);

  // `readChat` also starts the read of a chat just chosen, before the page renders the switch.
  return { cache, ready, readChat };
}
