"use client";

import Link from "next/link";
import type { SessionSummary } from "@/lib/contract";

interface Props {
  sessions: SessionSummary[];
  openSessionId: string | null;
  running: Set<string>;
  unread: Record<string, true>;
  onRename: (session: SessionSummary) => void;
  onDelete: (session: SessionSummary) => void;
}

export function Sidebar({ sessions, openSessionId, running, unread, onRename, onDelete }: Props) {
  return (
    <nav className="sidebar" aria-label="Chats">
      <Link className="new-chat" href="/">
        + New chat
      </Link>
      <ul>
        {sessions.map((session) => {
          const isRunning = running.has(session.id);
          return (
            <li
              key={session.id}
              data-session-id={session.id}
              data-running={isRunning ? "true" : "false"}
              aria-current={session.id === openSessionId ? "page" : undefined}
            >
              <Link href={`/chat/${session.id}`} title={session.title}>
                <span className="title">{session.title}</span>
                {isRunning ? <span className="spinner" role="img" aria-label="Reply being written" /> : null}
                {!isRunning && unread[session.id] ? (
                  <span className="unread" role="img" aria-label="New reply" />
                ) : null}
              </Link>
              <span className="actions">
                <button type="button" aria-label={`Rename ${session.title}`} onClick={() => onRename(session)}>
                  ✎
                </button>
                <button type="button" aria-label={`Delete ${session.title}`} onClick={() => onDelete(session)}>
                  ×
                </button>
              </span>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
