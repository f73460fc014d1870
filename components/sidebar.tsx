"use client";

import type { MouseEvent, ReactNode } from "react";
import { navigate } from "@/lib/client/navigate";
import type { SessionSummary } from "@/lib/contract";
import { groupSessionsByDate } from "./dates";

const headingId = (label: string) => `chats-${label.toLowerCase().replace(/\s+/g, "-")}`;

interface Props {
  sessions: SessionSummary[];
  openSessionId: string | null;
  running: Set<string>;
  unread: Record<string, true>;
  /** The list is not known yet (the cache is opening): show its outline instead of nothing. */
  loading: boolean;
  /** A chat (or "+ New chat") was chosen: the phone menu closes, a new chat focuses the composer. */
  onChosen: (path: string) => void;
  onRename: (session: SessionSummary) => void;
  onDelete: (session: SessionSummary) => void;
  /** The search box, under "+ New chat". */
  search?: ReactNode;
  /** Sign in, or the signed-in account and Sign out, at the foot. */
  account?: ReactNode;
}

export function Sidebar({
  sessions,
  openSessionId,
  running,
  unread,
  loading,
  onChosen,
  onRename,
  onDelete,
  search,
  account,
}: Props) {
  const go = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    const path = event.currentTarget.getAttribute("href") ?? "/";
    navigate(path);
    onChosen(path);
  };
  return (
    <nav className="sidebar" id="sidebar" aria-label="Chats">
      <a className="new-chat" href="/" onClick={go}>
        + New chat
      </a>
      {search}
      {loading && sessions.length === 0 ? (
        <div className="skeleton-list" aria-hidden="true">
          <span />
          <span />
          <span />
        </div>
      ) : null}
      {groupSessionsByDate(sessions).map((group) => (
        <section key={group.label} className="group" aria-labelledby={headingId(group.label)}>
          <h2 id={headingId(group.label)}>{group.label}</h2>
          <ul>
            {group.sessions.map((session) => {
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
        </section>
      ))}
      {account}
    </nav>
  );
}
