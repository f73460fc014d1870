import { type DBSchema, type IDBPDatabase, type IDBPObjectStore, openDB } from "idb";
import type { ClientMessage } from "../client/chat-store";
import { isRunning, type SessionSummary } from "../contract";

// The browser's copy of the user's chats, so opening a chat is instant and reading works offline.
// One database per signed-in user; bump CACHE_VERSION and add a step to `upgrade` to change it.
export const CACHE_VERSION = 1;
export const KEEP_SESSIONS = 50;

export interface CachedSession extends SessionSummary {
  lastAccessedAt: number;
}
export interface CachedMessage extends ClientMessage {
  position: number;
}
export interface ActiveStreamCursor {
  messageId: string;
  sessionId: string;
  attempt: number;
  seq: number;
  updatedAt: number;
}
export interface OutboxEntry {
  clientMessageId: string;
  sessionId: string | null;
  content: string;
  createdAt: number;
  /** The model chosen for the reply (unset: the server's default). */
  model?: string;
  /** A new chat's system prompt, sent with its first message. */
  systemPrompt?: string;
}

interface CacheSchema extends DBSchema {
  sessions: { key: string; value: CachedSession; indexes: { "by-accessed": number } };
  messages: { key: string; value: CachedMessage; indexes: { "by-session": [string, number] } };
  activeStreams: { key: string; value: ActiveStreamCursor };
  outbox: { key: string; value: OutboxEntry; indexes: { "by-created": number } };
}

const cacheable = (messages: ClientMessage[]) => messages.filter((m) => !m.id.startsWith("pending:"));

type CursorStore = IDBPObjectStore<CacheSchema, ["messages", "activeStreams"], "activeStreams", "readwrite">;

/** Keeps the cursor of a running reply (so it survives a reload), drops it once the reply ended. */
async function writeCursor(streams: CursorStore, sessionId: string, message: ClientMessage) {
  const running = message.role === "assistant" && isRunning(message.status);
  if (running)
    await streams.put({
      messageId: message.id,
      sessionId,
      attempt: message.attempt,
      seq: message.seq,
      updatedAt: Date.now(),
    });
  else await streams.delete(message.id);
}

export class ChatCache {
  private constructor(private readonly db: IDBPDatabase<CacheSchema>) {}

  static async open(userId: string): Promise<ChatCache> {
    const db = await openDB<CacheSchema>(`backchannel-${userId}`, CACHE_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore("sessions", { keyPath: "id" }).createIndex("by-accessed", "lastAccessedAt");
          database
            .createObjectStore("messages", { keyPath: "id" })
            .createIndex("by-session", ["sessionId", "position"]);
          database.createObjectStore("activeStreams", { keyPath: "messageId" });
          database.createObjectStore("outbox", { keyPath: "clientMessageId" }).createIndex("by-created", "createdAt");
        }
      },
    });
    return new ChatCache(db);
  }

  /**
   * Moves the sends waiting in `fromUserId`'s outbox to `toUserId`'s (a guest signed in to an
   * account: its chats, and so its waiting sends, are the account's now).
   */
  static async moveOutbox(fromUserId: string, toUserId: string): Promise<number> {
    const from = await ChatCache.open(fromUserId);
    try {
      const waiting = await from.getOutbox();
      if (waiting.length === 0) return 0;
      const to = await ChatCache.open(toUserId);
      try {
        for (const entry of waiting) await to.addToOutbox(entry);
      } finally {
        to.close();
      }
      for (const entry of waiting) await from.removeFromOutbox(entry.clientMessageId);
      return waiting.length;
    } finally {
      from.close();
    }
  }

  close(): void {
    this.db.close();
  }

  async getSessions(): Promise<SessionSummary[]> {
    const sessions = await this.db.getAll("sessions");
    return sessions
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .map(({ lastAccessedAt: _, ...session }) => session);
  }

  /**
   * Writes the session list, keeping when each was last opened (the open one: now), and drops the
   * chats in `removed` with their cached messages: the ones this tab saw go (deleted here, or
   * missing from the server's list). A cached chat this tab never knew stays: another tab may have
   * just written it.
   */
  async putSessions(sessions: SessionSummary[], openSessionId: string | null, removed: string[]): Promise<void> {
    const tx = this.db.transaction("sessions", "readwrite");
    const known = new Map((await tx.store.getAll()).map((s) => [s.id, s.lastAccessedAt]));
    const keep = new Set(sessions.map((s) => s.id));
    const gone = removed.filter((id) => known.has(id) && !keep.has(id));
    for (const id of gone) await tx.store.delete(id);
    for (const session of sessions) {
      const lastAccessedAt = session.id === openSessionId ? Date.now() : (known.get(session.id) ?? 0);
      await tx.store.put({ ...session, lastAccessedAt });
    }
    await tx.done;
    // A deleted chat takes its cached messages with it.
    for (const id of gone) await this.putMessages(id, []);
  }

  async touchSession(sessionId: string): Promise<void> {
    const tx = this.db.transaction("sessions", "readwrite");
    const session = await tx.store.get(sessionId);
    if (session) await tx.store.put({ ...session, lastAccessedAt: Date.now() });
    await tx.done;
  }

  async getMessages(sessionId: string): Promise<ClientMessage[]> {
    const range = IDBKeyRange.bound([sessionId, 0], [sessionId, Number.MAX_SAFE_INTEGER]);
    const rows = await this.db.getAllFromIndex("messages", "by-session", range);
    return rows.map(({ position: _, ...message }) => message);
  }

  /** Replaces a chat's messages (pending local ones are not cached: the outbox keeps those). */
  async putMessages(sessionId: string, messages: ClientMessage[]): Promise<void> {
    const tx = this.db.transaction(["messages", "activeStreams"], "readwrite");
    const store = tx.objectStore("messages");
    const range = IDBKeyRange.bound([sessionId, 0], [sessionId, Number.MAX_SAFE_INTEGER]);
    for (const key of await store.index("by-session").getAllKeys(range)) await store.delete(key);
    for (const [position, message] of cacheable(messages).entries()) {
      await store.put({ ...message, position });
      await writeCursor(tx.objectStore("activeStreams"), sessionId, message);
    }
    await tx.done;
  }

  /**
   * Writes only what changed since `previous` (a streaming reply: one record, not the whole chat).
   * When messages were added, removed or moved, the chat is rewritten.
   */
  async updateMessages(sessionId: string, messages: ClientMessage[], previous: ClientMessage[] | undefined) {
    const next = cacheable(messages);
    const before = previous ? cacheable(previous) : [];
    if (before.length !== next.length || next.some((m, i) => before[i]?.id !== m.id)) {
      return this.putMessages(sessionId, messages);
    }
    const changed = [...next.entries()].filter(([i, message]) => message !== before[i]);
    if (changed.length === 0) return;
    const tx = this.db.transaction(["messages", "activeStreams"], "readwrite");
    for (const [position, message] of changed) {
      await tx.objectStore("messages").put({ ...message, position });
      await writeCursor(tx.objectStore("activeStreams"), sessionId, message);
    }
    await tx.done;
  }

  async getActiveStreams(): Promise<ActiveStreamCursor[]> {
    return this.db.getAll("activeStreams");
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.putMessages(sessionId, []);
    await this.db.delete("sessions", sessionId);
  }

  /** Keeps the messages of the `keep` most recently opened chats; older chats keep only their title. */
  async prune(keep = KEEP_SESSIONS): Promise<void> {
    const sessions = await this.db.getAllFromIndex("sessions", "by-accessed");
    const old = sessions.reverse().slice(keep);
    for (const session of old) await this.putMessages(session.id, []);
  }

  async addToOutbox(entry: OutboxEntry): Promise<void> {
    await this.db.put("outbox", entry);
  }

  async getOutbox(): Promise<OutboxEntry[]> {
    return this.db.getAllFromIndex("outbox", "by-created");
  }

  async removeFromOutbox(clientMessageId: string): Promise<void> {
    await this.db.delete("outbox", clientMessageId);
  }
}
