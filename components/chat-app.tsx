"use client";

import { usePathname } from "next/navigation";
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { useBackgroundStreamMonitor } from "@/hooks/use-background-stream-monitor";
import { useChatActions } from "@/hooks/use-chat-actions";
import { useChatCache } from "@/hooks/use-chat-cache";
import { useChatSettings } from "@/hooks/use-chat-settings";
import { useChatStreaming } from "@/hooks/use-chat-streaming";
import { useMenu } from "@/hooks/use-menu";
import { useModels } from "@/hooks/use-models";
import { useSearchJump } from "@/hooks/use-search-jump";
import { useWorkerWatch } from "@/hooks/use-worker-watch";
import { ChatCache } from "@/lib/cache/chat-cache";
import { ApiError, api, onSessionExpired, type SessionUser } from "@/lib/client/api";
import { visibleBranch } from "@/lib/client/branches";
import { ChatStore, runningSessionIds } from "@/lib/client/chat-store";
import { sessionIdFromPath } from "@/lib/client/navigate";
import { openTabChannel, type TabMessage } from "@/lib/client/tab-channel";
import type { ReplyEvent } from "@/lib/contract";
import { Account } from "./account";
import { ChatHeader } from "./chat-header";
import { ChatNotFound, ChatSkeleton, NewChatIntro } from "./chat-placeholders";
import { ChatSearch } from "./chat-search";
import { ChatSettings } from "./chat-settings";
import { Composer, DRAFT_KEY } from "./composer";
import { MessageList } from "./message-list";
import { MaxAttemptsContext } from "./reply-settings";
import { SessionExpired } from "./session-expired";
import { Sidebar } from "./sidebar";

const LAST_USER_KEY = "backchannel:last-user";

function notifyIfHidden(store: ChatStore, event: ReplyEvent) {
  if (event.type !== "done" || typeof document === "undefined" || !document.hidden) return;
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
  const title = store.getSnapshot().sessions.find((s) => s.id === event.sessionId)?.title ?? "Backchannel";
  new Notification(title, { body: "A reply is ready.", tag: event.messageId });
}

export function ChatApp({ children, maxAttempts = null }: { children: ReactNode; maxAttempts?: number | null }) {
  const pathname = usePathname();
  const openSessionId = sessionIdFromPath(pathname);
  const store = useMemo(() => new ChatStore(), []);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const [userId, setUserId] = useState<string | null>(null);
  const [user, setUser] = useState<SessionUser | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Chats the server answered 404 for: not this person's, or deleted.
  const [missing, setMissing] = useState<ReadonlySet<string>>(() => new Set());
  const menu = useMenu();
  const composerRef = useRef<HTMLTextAreaElement>(null);
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
        ({ messages, activeLeafId }) => store.setMessages(sessionId, messages, activeLeafId),
        (error: unknown) => {
          if (!(error instanceof ApiError && error.status === 404)) return;
          setMissing((known) => new Set(known).add(sessionId));
          store.removeSession(sessionId);
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
      const known = session?.user?.id
        ? {
            id: session.user.id,
            name: session.user.name ?? "",
            email: session.user.email,
            guest: session.user.guest !== false,
          }
        : (await api.signInAsGuest()).user;
      window.localStorage.setItem(LAST_USER_KEY, known.id);
      // Someone else was signed in here (a guest who has just signed in to an account: its chats
      // moved there): the sends waiting in their outbox move to the new user's (they go out once
      // its stream connects), then their cache goes, once the hook has closed it for the new user's.
      if (remembered && remembered !== known.id) {
        await ChatCache.moveOutbox(remembered, known.id).catch(() => {});
        indexedDB.deleteDatabase(`backchannel-${remembered}`);
      }
      if (!cancelled) {
        setUserId(known.id);
        setUser(known);
      }
    })().catch((error: unknown) => {
      // Guests off (404): nobody is signed in until they sign in with an account.
      if (error instanceof ApiError && error.status === 404) {
        if (!cancelled) setUser({ id: "", name: "", guest: true, signedOut: true });
        setNotice("Sign in to start chatting.");
      } else if (!remembered) setNotice("Could not sign in. Reload to try again.");
    });
    if (process.env.NODE_ENV === "production" && "serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(() => {});
    }
    return () => {
      cancelled = true;
    };
  }, []);

  // The session ended under this page (a 401 from the API or the stream): said, and sign-in
  // offered; the draft and the outbox wait. A 401 is checked against the session first: one
  // answered to a request made before this page's session was confirmed is not an expiry.
  const [expired, setExpired] = useState(false);
  const userRef = useRef(user);
  userRef.current = user;
  const checkExpiry = useCallback(() => {
    const shown = userRef.current;
    if (!shown || shown.signedOut) return;
    api.currentSession().then(
      (session) => {
        if (session?.user?.id !== shown.id) setExpired(true);
      },
      () => {},
    );
  }, []);
  useEffect(() => onSessionExpired(checkExpiry), [checkExpiry]);
  useEffect(() => {
    if (expired) store.setConnection("expired");
  }, [expired, store]);

  // The cache fills the store first, so the stream resumes every running reply from its cursor.
  const { cache, ready, readChat } = useChatCache(userId, store, openSessionId);

  useEffect(() => {
    if (ready) refreshSessions();
  }, [ready, refreshSessions]);

  useEffect(() => {
    menu.close();
    if (!ready || !openSessionId) return;
    store.markRead(openSessionId);
    loadMessages(openSessionId);
  }, [ready, openSessionId, store, loadMessages, menu.close]);

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
    onState: (connection, attempt) => {
      store.setConnection(connection, attempt);
      if (connection === "expired") checkExpiry();
    },
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

  const all = openSessionId ? (state.messages[openSessionId] ?? []) : [];
  const leaf = openSessionId ? state.leaves[openSessionId] : undefined;
  // A chat is a tree; the page shows the branch that ends at its visible leaf.
  const messages = useMemo(() => visibleBranch(all, leaf), [all, leaf]);
  const running = useMemo(() => runningSessionIds(state), [state]);
  const waitingForWorker = useWorkerWatch(messages);
  const models = useModels();
  const settings = useChatSettings(store, state.sessions, openSessionId);
  const { newChatPrompt, clearNewChatPrompt } = settings;
  const sendFromComposer = useCallback(
    async (content: string, model?: string) => {
      const outcome = await actions.send(content, openSessionId, model, newChatPrompt);
      if (outcome.sent && newChatPrompt) clearNewChatPrompt();
      return outcome;
    },
    [actions.send, openSessionId, newChatPrompt, clearNewChatPrompt],
  );
  // Retry on a failed reply is a regenerate: a new version, not the question asked twice.
  const handlers = useMemo(
    () => ({
      onStop: actions.stop,
      onRetry: actions.regenerate,
      onRegenerate: actions.regenerate,
      onVersion: actions.chooseVersion,
      onEdit: actions.edit,
    }),
    [actions.stop, actions.regenerate, actions.chooseVersion, actions.edit],
  );
  const unknownChat = openSessionId ? missing.has(openSessionId) : Boolean(pathname?.startsWith("/chat/"));
  const loading = Boolean(openSessionId) && messages.length === 0 && (!ready || !store.isLoaded(openSessionId ?? ""));
  const chatTitle = state.sessions.find((s) => s.id === openSessionId)?.title;
  const title = unknownChat ? "Chat not found" : openSessionId ? (chatTitle ?? "Chat") : "New chat";
  useEffect(() => {
    document.title = openSessionId && chatTitle && !unknownChat ? chatTitle : "Backchannel";
  }, [openSessionId, chatTitle, unknownChat]);
  // Sign-out ends the session, then drops this user's cache (closed first, or the delete would
  // wait for it) and reloads: the stream closes with the page, which comes back signed out.
  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } catch {
      setNotice("Could not sign out. Try again.");
      return;
    }
    if (userId) {
      cache?.close();
      await new Promise<void>((resolve) => {
        const request = indexedDB.deleteDatabase(`backchannel-${userId}`);
        request.onsuccess = request.onerror = request.onblocked = () => resolve();
      });
    }
    window.localStorage.removeItem(LAST_USER_KEY);
    window.sessionStorage.removeItem(DRAFT_KEY);
    window.location.assign("/");
  }, [userId, cache]);
  // A new chat starts with typing: the caret goes to the composer once the new-chat view renders.
  const focusComposer = useRef(false);
  const [, rerender] = useState(0);
  const onChosen = useCallback(
    (path: string) => {
      menu.close();
      const chosen = sessionIdFromPath(path);
      if (chosen) readChat(chosen); // the cache read starts with the click, not after the next render
      if (path !== "/") return;
      focusComposer.current = true;
      rerender((n) => n + 1); // also when the page is on "/" already and nothing else changes
    },
    [menu.close, readChat],
  );
  useEffect(() => {
    if (!focusComposer.current || openSessionId || unknownChat || !composerRef.current) return;
    focusComposer.current = false;
    composerRef.current.focus();
  });
  // Search: a result opens its chat at the message (and closes the phone's menu, as a chat chosen does).
  const openAtMessage = useSearchJump(store, openSessionId);
  const search = (
    <ChatSearch
      onOpen={(result) => {
        openAtMessage(result);
        onChosen(`/chat/${result.sessionId}`);
      }}
      onReveal={() => {
        // Only where the sidebar is a menu: its ☰ button shows (a narrow screen).
        if (!menu.open && menu.buttonRef.current?.getClientRects().length) menu.toggle();
      }}
    />
  );

  return (
    <MaxAttemptsContext.Provider value={maxAttempts}>
      <div className={`app ${menu.open ? "sidebar-open" : ""}`}>
        <Sidebar
          sessions={state.sessions}
          openSessionId={openSessionId}
          running={running}
          unread={state.unread}
          loading={!ready}
          onChosen={onChosen}
          onRename={actions.rename}
          onDelete={actions.remove}
          search={search}
          account={<Account user={user} onSignOut={() => void signOut()} />}
        />
        {menu.open ? <div className="backdrop" aria-hidden="true" onClick={menu.close} /> : null}
        <main className="chat">
          <ChatHeader
            title={title}
            messages={unknownChat ? [] : messages}
            menuOpen={menu.open}
            menuButtonRef={menu.buttonRef}
            onToggleMenu={menu.toggle}
            connection={state.connection}
            settings={
              unknownChat ? null : (
                <ChatSettings systemPrompt={settings.systemPrompt} newChat={!openSessionId} onSave={settings.save} />
              )
            }
          />
          {expired && user ? (
            <SessionExpired guest={user.guest} onNewGuest={() => window.location.assign("/")} />
          ) : null}
          {notice ? (
            <div className="notice" role="alert">
              {notice}
              <button type="button" aria-label="Dismiss" onClick={() => setNotice(null)}>
                ×
              </button>
            </div>
          ) : null}
          {unknownChat ? (
            <ChatNotFound onBack={() => onChosen("/")} />
          ) : loading ? (
            <ChatSkeleton offline={ready && state.connection.state === "offline"} />
          ) : openSessionId ? (
            <MessageList
              key={openSessionId}
              messages={messages}
              all={all}
              waitingForWorker={waitingForWorker}
              handlers={handlers}
            />
          ) : (
            <NewChatIntro />
          )}
          {unknownChat ? null : (
            <Composer onSend={sendFromComposer} disabled={!ready} models={models} textareaRef={composerRef} />
          )}
          {children}
        </main>
      </div>
    </MaxAttemptsContext.Provider>
  );
}
