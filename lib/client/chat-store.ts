import {
  type ActiveStream,
  type AttemptReason,
  isRunning as isRunningStatus,
  type ReplyEvent,
  type ReplyStatus,
  type Role,
  type SessionSummary,
  type StoredMessage,
} from "../contract";
import { visibleBranch } from "./branches";

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline" | "expired" | "paused";

export interface ClientMessage {
  id: string;
  sessionId: string;
  /** The message it follows in the chat's tree (null: a first message; undefined: not known). */
  parentId?: string | null;
  role: Role;
  content: string;
  status: ReplyStatus;
  attempt: number;
  seq: number;
  createdAt: string;
  error?: { code: string; message: string; retryable: boolean };
  /** A send waiting in the outbox: for the network to return, or for the person to sign in again. */
  waitsFor?: "network" | "sign-in";
  /** Why the running attempt is not the first: the bubble says so while the reply is written. */
  retry?: { reason: AttemptReason; attempt: number };
}

export interface ChatState {
  sessions: SessionSummary[];
  messages: Record<string, ClientMessage[]>;
  unread: Record<string, true>;
  /** Where each chat's visible branch ends (absent: at its last message). */
  leaves: Record<string, string>;
  connection: { state: ConnectionState; attempt: number };
}

/** A message the browser adds before the server lists it (a send's own message and its reply). */
export function localMessage(
  id: string,
  sessionId: string,
  role: Role,
  content: string,
  status: ReplyStatus,
): ClientMessage {
  return { id, sessionId, role, content, status, attempt: 0, seq: 0, createdAt: new Date().toISOString() };
}

export const isRunning = (message: ClientMessage) => isRunningStatus(message.status);

/**
 * The browser's model of every chat, outside React: the SSE hook writes events into it, components
 * read immutable snapshots with useSyncExternalStore. A reply's text only changes through
 * `applyEvent`, which drops chunks it already has, so replays and reconnects never duplicate text.
 */
export class ChatStore {
  private state: ChatState = {
    sessions: [],
    messages: {},
    unread: {},
    leaves: {},
    connection: { state: "connecting", attempt: 0 },
  };
  private readonly listeners = new Set<() => void>();
  openSessionId: string | null = null;
  /** Chats whose whole history is in the store (not just replies the stream announced). */
  private readonly loaded = new Set<string>();

  isLoaded(sessionId: string): boolean {
    return this.loaded.has(sessionId);
  }

  /** This tab holds the chat's whole history (it just created the chat). */
  markLoaded(sessionId: string): void {
    this.loaded.add(sessionId);
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.state;

  private set(next: Partial<ChatState>) {
    this.state = { ...this.state, ...next };
    for (const listener of this.listeners) listener();
  }

  /** Forgets everything (another user signed in). */
  reset() {
    this.loaded.clear();
    this.set({ sessions: [], messages: {}, unread: {} });
  }

  setConnection(state: ConnectionState, attempt = 0) {
    if (this.state.connection.state !== state || this.state.connection.attempt !== attempt)
      this.set({ connection: { state, attempt } });
  }

  setSessions(sessions: SessionSummary[]) {
    this.set({ sessions });
  }

  /** Cached sessions, used until the server's list arrives. */
  hydrateSessions(sessions: SessionSummary[]) {
    if (this.state.sessions.length === 0 && sessions.length > 0) this.set({ sessions });
  }

  /** Cached messages of a chat, used when the store has none for it yet. */
  hydrateMessages(sessionId: string, messages: ClientMessage[]) {
    if (this.loaded.has(sessionId) || messages.length === 0) return;
    // Replies the stream announced before the cache was read keep their (newer) state.
    const live = new Map((this.state.messages[sessionId] ?? []).map((m) => [m.id, m]));
    const merged = messages.map((m) => live.get(m.id) ?? m);
    const cachedIds = new Set(messages.map((m) => m.id));
    merged.push(...[...live.values()].filter((m) => !cachedIds.has(m.id)));
    this.loaded.add(sessionId);
    this.set({ messages: { ...this.state.messages, [sessionId]: merged } });
  }

  /** Marks which chats have a running reply. False when one of them is not in the list yet. */
  applyActiveStreams(streams: ActiveStream[]): boolean {
    const active = new Map<string, string>();
    for (const stream of streams) if (!active.has(stream.sessionId)) active.set(stream.sessionId, stream.messageId);
    const sessions = this.state.sessions.map((session) => {
      const activeMessageId = active.get(session.id);
      return activeMessageId === session.activeMessageId ? session : { ...session, activeMessageId };
    });
    if (sessions.some((session, i) => session !== this.state.sessions[i])) this.set({ sessions });
    const known = new Set(sessions.map((session) => session.id));
    return [...active.keys()].every((id) => known.has(id));
  }

  upsertSession(session: SessionSummary) {
    const others = this.state.sessions.filter((s) => s.id !== session.id);
    this.set({ sessions: [session, ...others] });
  }

  /** A chat's system prompt changed (null: none). In place: choosing a prompt is not activity. */
  setSystemPrompt(sessionId: string, systemPrompt: string | null) {
    const sessions = this.state.sessions.map((session) => {
      if (session.id !== sessionId) return session;
      const { systemPrompt: _old, ...rest } = session;
      return systemPrompt ? { ...rest, systemPrompt } : rest;
    });
    this.set({ sessions });
  }

  removeSession(sessionId: string) {
    const { [sessionId]: _gone, ...messages } = this.state.messages;
    this.set({ sessions: this.state.sessions.filter((s) => s.id !== sessionId), messages });
  }

  markRead(sessionId: string) {
    if (!this.state.unread[sessionId]) return;
    const { [sessionId]: _read, ...unread } = this.state.unread;
    this.set({ unread });
  }

  /** Makes the chat's visible branch end at `leafId` (a version chosen, a regenerate). */
  setLeaf(sessionId: string, leafId: string) {
    if (this.state.leaves[sessionId] !== leafId) this.set({ leaves: { ...this.state.leaves, [sessionId]: leafId } });
  }

  /** Server messages for a chat (every branch). A reply the stream is following keeps the stream's text. */
  setMessages(sessionId: string, stored: StoredMessage[], activeLeafId?: string | null) {
    const known = new Map((this.state.messages[sessionId] ?? []).map((m) => [m.id, m]));
    const merged = stored.map((m): ClientMessage => {
      const mine = known.get(m.id);
      // A list from the server never knows more about a running reply than the stream does.
      if (mine && isRunningStatus(m.status))
        return mine.parentId === m.parentId ? mine : { ...mine, parentId: m.parentId };
      // What the list says already is the message kept: the same object, so its bubble (a memo) is
      // not rendered again; a chat opened from the cache re-rendered all its messages here.
      if (mine && sameAsStored(mine, m)) return mine;
      return {
        id: m.id,
        sessionId,
        parentId: m.parentId,
        role: m.role,
        content: m.content,
        status: m.status,
        attempt: mine?.attempt ?? 0,
        seq: mine?.seq ?? 0,
        createdAt: m.createdAt,
        error: mine?.error,
      };
    });
    const storedIds = new Set(stored.map((m) => m.id));
    const pending = [...known.values()].filter((m) => !storedIds.has(m.id) && m.id.startsWith("pending:"));
    this.loaded.add(sessionId);
    const leaves = activeLeafId ? { ...this.state.leaves, [sessionId]: activeLeafId } : this.state.leaves;
    this.set({ messages: { ...this.state.messages, [sessionId]: [...merged, ...pending] }, leaves });
  }

  /**
   * Appends messages in the given order. A reply the stream announced before the send's 202 came
   * back is already in the list: its (newer) state is kept, but it moves behind its question.
   */
  addMessages(sessionId: string, added: ClientMessage[], replacingIds: string[] = []) {
    const list = this.state.messages[sessionId] ?? [];
    const byId = new Map(list.map((m) => [m.id, m]));
    const addedIds = new Set(added.map((m) => m.id));
    const kept = list.filter((m) => !replacingIds.includes(m.id) && !addedIds.has(m.id));
    // In a chat whose tree is known, new messages without a parent follow the visible branch's
    // end, each the one before it; the last one added ends the visible branch.
    const tree = kept.length === 0 || kept.every((m) => m.parentId !== undefined);
    // The branch's end as it was shown, passing over what is replaced (a send's pending message)
    // and what this call adds (a reply the stream announced before the send's answer).
    const shown = visibleBranch(list, this.state.leaves[sessionId]).filter((m) => kept.includes(m));
    let end = tree ? (shown.at(-1)?.id ?? null) : undefined;
    const appended = added.map((m) => {
      // A message given in `replacingIds` is replaced by the one added (a send now waiting in the outbox).
      const known = replacingIds.includes(m.id) ? m : (byId.get(m.id) ?? m);
      const parentId = m.parentId !== undefined ? m.parentId : (known.parentId ?? end);
      end = tree ? m.id : undefined;
      return parentId === undefined ? known : { ...known, parentId };
    });
    const last = appended.at(-1);
    const leaves = tree && last ? { ...this.state.leaves, [sessionId]: last.id } : this.state.leaves;
    this.set({ messages: { ...this.state.messages, [sessionId]: [...kept, ...appended] }, leaves });
  }

  private updateMessage(sessionId: string, messageId: string, update: (m: ClientMessage) => ClientMessage) {
    const list = this.state.messages[sessionId] ?? [];
    let index = list.findIndex((m) => m.id === messageId);
    let next = [...list];
    if (index < 0) {
      next = [...list, localMessage(messageId, sessionId, "assistant", "", "queued")];
      index = next.length - 1;
    }
    const current = next[index];
    if (!current) return;
    next[index] = update(current);
    this.set({ messages: { ...this.state.messages, [sessionId]: next } });
  }

  applyEvent(event: ReplyEvent) {
    this.updateMessage(event.sessionId, event.messageId, (m) => applyReplyEvent(m, event));
    const ended =
      event.type === "done" || event.type === "error" || (event.type === "status" && event.status === "cancelled");
    if (ended && event.sessionId !== this.openSessionId)
      this.set({ unread: { ...this.state.unread, [event.sessionId]: true } });
  }

  /** `<messageId>:<attempt>:<seq>` of every reply the stream is following, to resume all of them. */
  cursors(): string[] {
    const cursors: string[] = [];
    for (const list of Object.values(this.state.messages)) {
      // Queued replies too (`:0:0`): one that ran and ended while the stream was down still ends here.
      for (const m of list) if (m.role === "assistant" && isRunning(m)) cursors.push(`${m.id}:${m.attempt}:${m.seq}`);
    }
    return cursors;
  }
}

/** Chats with a reply being written: from the replies the stream follows, else from the session list. */
export function runningSessionIds(state: ChatState): Set<string> {
  const running = new Set<string>();
  for (const [sessionId, list] of Object.entries(state.messages)) {
    if (list.some((m) => m.role === "assistant" && isRunning(m))) running.add(sessionId);
  }
  for (const session of state.sessions)
    if (session.activeMessageId && !state.messages[session.id]) running.add(session.id);
  return running;
}

/** One reply event applied to one message: the whole resume logic of the browser. */
export function applyReplyEvent(message: ClientMessage, event: ReplyEvent): ClientMessage {
  // An ended reply is final: a replayed end or a late event changes nothing.
  if (!isRunning(message)) return message;
  switch (event.type) {
    case "status": {
      if (event.attempt < message.attempt) return message;
      if (event.attempt === message.attempt) return { ...message, status: event.status };
      // A new attempt continues the text this tab has (the server sent a snapshot first when it
      // had more than was kept), or starts it over. Text with no chunk seq came from a list, not
      // the stream: the stream sends it again from chunk 1.
      const keeps = event.continued === true && message.seq > 0 && message.seq <= (event.seq ?? 0);
      return {
        ...message,
        status: event.status,
        attempt: event.attempt,
        retry: event.reason ? { reason: event.reason, attempt: event.attempt } : message.retry,
        ...(keeps ? {} : { content: "", seq: 0 }),
      };
    }
    case "reset":
      if (event.attempt <= message.attempt && message.seq === 0) return { ...message, attempt: event.attempt };
      return event.attempt < message.attempt ? message : { ...message, attempt: event.attempt, content: "", seq: 0 };
    case "snapshot":
      return { ...message, attempt: event.attempt, seq: event.seq, content: event.content };
    case "chunk": {
      if (event.attempt < message.attempt) return message;
      const base =
        event.attempt > message.attempt ? { ...message, content: "", seq: 0, attempt: event.attempt } : message;
      if (event.seq <= base.seq) return base;
      return { ...base, status: "generating", seq: event.seq, content: base.content + event.text };
    }
    case "done":
      return { ...message, status: "completed" };
    case "error":
      return {
        ...message,
        status: "error",
        error: { code: event.code, message: event.message, retryable: event.retryable },
      };
  }
}

/** The store's message already says all that the server's list says of it. */
function sameAsStored(mine: ClientMessage, stored: StoredMessage): boolean {
  return (
    mine.parentId === stored.parentId &&
    mine.role === stored.role &&
    mine.content === stored.content &&
    mine.status === stored.status &&
    mine.createdAt === stored.createdAt
  );
}
