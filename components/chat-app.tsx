"use client";

import { usePathname } from "next/navigation";
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { useBackgroundStreamMonitor } from "@/hooks/use-background-stream-monitor";
import { useChatActions } from "@/hooks/use-chat-actions";
import { useChatCache } from "@/hooks/use-chat-cache";
import { useChatStreaming } from "@/hooks/use-chat-streaming";
import { useWorkerWatch } from "@/hooks/use-worker-watch";
import { ApiError, api } from "@/lib/client/api";
import { ChatStore, runningSessionIds } from "@/lib/client/chat-store";
import { sessionIdFromPath } from "@/lib/client/navigate";
import { openTabChannel, type TabMessage } from "@/lib/client/tab-channel";
import type { ReplyEvent } from "@/lib/contract";
import { Composer } from "./composer";
import { ConnectionIndicator } from "./connection-indicator";
import { MessageList } from "./message-list";
import { Sidebar } from "./sidebar";

const LAST_USER_KEY = "backchannel:last-user";

function notifyIfHidden(store: ChatStore, event: ReplyEvent) {
  if (event.type !== "done" || typeof document === "undefined" || !document.hidden) return;
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const title = store.getSnapshot().sessions.find((s) => s.id === event.sessionId)?.title ?? "Backchannel";
  new Notification(title, { body: "A reply is ready.", tag: event.messageId });
}

export function ChatApp({ children }: { children: ReactNode }) {
  const openSessionId = sessionIdFromPath(usePathname());
  const store = useMemo(() => new ChatStore(), []);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const [userId, setUserId] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  store.openSessionId = openSessionId;

  const refreshSessions = useCallback(() => {
    api.listSessions().then(
      ({ sessions }) => store.setSessions(sessions),
      () => {},
    );
  }, [store]);

  const loadMessages = useCallback(
    (sessionId: string) => {
      api.listMessages(sessionId).then(
        ({ messages }) => store.setMessages(sessionId, messages),
        (error: unknown) => {
          if (error instanceof ApiError && error.status === 404) setNotice("That chat does not exist.");
        },
      );
    },
    [store],
  );

  useEffect(() => {
    let cancelled = false;
    // Open the last user's cache at once (instant chats, and offline there is no server to ask),
    // then let the server confirm who is signed in.
    const remembered = window.localStorage.getItem(LAST_USER_KEY);
    if (remembered) setUserId(remembered);
    (async () => {
      const session = await api.currentSession();
      const id = session?.user?.id ?? (await api.signInAsGuest()).user.id;
      window.localStorage.setItem(LAST_USER_KEY, id);
      if (!cancelled) setUserId(id);
    })().catch(() => {
      if (!remembered) setNotice("Could not sign in. Reload to try again.");
    });
    if (process.env.NODE_ENV === "production" && "serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(() => {});
    }
    return () => {
      cancelled = true;
    };
  }, []);

  // The cache fills the store first, so the stream resumes every running reply from its cursor.
  const { cache, ready } = useChatCache(userId, store, openSessionId);

  useEffect(() => {
    if (ready) refreshSessions();
  }, [ready, refreshSessions]);

  useEffect(() => {
    setSidebarOpen(false);
    if (!ready || !openSessionId) return;
    store.markRead(openSessionId);
    loadMessages(openSessionId);
  }, [ready, openSessionId, store, loadMessages]);

  const reportError = useCallback((text: string) => setNotice(text), []);
  const tabs = useRef<ReturnType<typeof openTabChannel> | null>(null);
  useEffect(() => {
    if (!userId) return;
    tabs.current = openTabChannel(userId, (message) => {
      store.upsertSession(message.session);
      store.addMessages(message.session.id, message.messages);
    });
    return () => tabs.current?.close();
  }, [userId, store]);
  const tellOtherTabs = useCallback((message: TabMessage) => tabs.current?.post(message), []);
  const actions = useChatActions(store, cache, openSessionId, reportError, tellOtherTabs);
  const flushOutbox = actions.flushOutbox;

  useChatStreaming(ready, {
    getCursors: () => store.cursors(),
    onEvent: (event) => {
      store.applyEvent(event);
      notifyIfHidden(store, event);
      if (event.type === "done" || event.type === "error" || (event.type === "status" && event.status !== "generating"))
        refreshSessions();
    },
    onState: (connection, attempt) => store.setConnection(connection, attempt),
    onConnected: () => {
      refreshSessions();
      if (store.openSessionId) loadMessages(store.openSessionId);
      void flushOutbox();
    },
  });

  // A reply started in another tab or device marks its chat; a chat not listed yet is fetched.
  useBackgroundStreamMonitor(
    ready,
    async () => (await api.activeStreams()).streams,
    (streams) => store.applyActiveStreams(streams) || refreshSessions(),
  );

  const messages = openSessionId ? (state.messages[openSessionId] ?? []) : [];
  const running = useMemo(() => runningSessionIds(state), [state]);
  const waitingForWorker = useWorkerWatch(messages);
  const title = state.sessions.find((s) => s.id === openSessionId)?.title;

  return (
    <div className={`app ${sidebarOpen ? "sidebar-open" : ""}`}>
      <Sidebar
        sessions={state.sessions}
        openSessionId={openSessionId}
        running={running}
        unread={state.unread}
        onRename={actions.rename}
        onDelete={actions.remove}
      />
      <main className="chat">
        <header>
          <button type="button" className="menu" aria-label="Chats" onClick={() => setSidebarOpen((open) => !open)}>
            ☰
          </button>
          <h1>{openSessionId ? (title ?? "Chat") : "New chat"}</h1>
          <ConnectionIndicator state={state.connection.state} attempt={state.connection.attempt} />
        </header>
        {notice ? (
          <div className="notice" role="alert">
            {notice}
            <button type="button" aria-label="Dismiss" onClick={() => setNotice(null)}>
              ×
            </button>
          </div>
        ) : null}
        {openSessionId ? (
          <MessageList
            key={openSessionId}
            messages={messages}
            waitingForWorker={waitingForWorker}
            onStop={actions.stop}
            onRetry={actions.retry}
          />
        ) : (
          <div className="empty">
            <p>Ask anything. Replies keep coming while you switch chats, reload, or go offline.</p>
            <p className="hint">
              Try <code>/mock tokens=600 tps=40</code> on the first line for a long reply.
            </p>
          </div>
        )}
        <Composer onSend={actions.send} disabled={!ready} />
        {children}
      </main>
    </div>
  );
}
