"use client";

import type { MouseEvent } from "react";
import { navigate } from "@/lib/client/navigate";
import type { SessionSummary } from "@/lib/contract";

function go(event: MouseEvent<HTMLAnchorElement>) {
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(event.currentTarget.getAttribute("href") ?? "/");
}

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
      <a className="new-chat" href="/" onClick={go}>
        + New chat
      </a>
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
              <a href={`/chat/${session.id}`} title={session.title} onClick={go}>
                <span className="title">{session.title}</span>
                {isRunning ? <span className="spinner" role="img" aria-label="Reply being written" /> : null}
                {!isRunning && unread[session.id] ? (
                  <span className="unread" role="img" aria-label="New reply" />
                ) : null}
              </a>
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
