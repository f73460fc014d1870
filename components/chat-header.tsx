"use client";

import type { ReactNode, Ref } from "react";
import type { ClientMessage, ConnectionState } from "@/lib/client/chat-store";
import { chatAsMarkdown, downloadText, exportFileName } from "./chat-export";
import { ConnectionIndicator } from "./connection-indicator";

interface Props {
  title: string;
  /** The open chat's messages; Export shows only when there is something to export. */
  messages: readonly ClientMessage[];
  menuOpen: boolean;
  menuButtonRef: Ref<HTMLButtonElement>;
  onToggleMenu: () => void;
  connection: { state: ConnectionState; attempt: number };
  /** The chat's settings button (and the panel it opens), when the page shows a chat. */
  settings?: ReactNode;
}

export function ChatHeader({ title, messages, menuOpen, menuButtonRef, onToggleMenu, connection, settings }: Props) {
  return (
    <header className="chat-header">
      <button
        ref={menuButtonRef}
        type="button"
        className="menu"
        aria-label="Menu"
        aria-expanded={menuOpen}
        aria-controls="sidebar"
        onClick={onToggleMenu}
      >
        ☰
      </button>
      <h1>{title}</h1>
      {settings}
      {messages.length > 0 ? (
        <button
          type="button"
          className="export"
          aria-label="Export chat"
          title="Export chat as Markdown"
          onClick={() => downloadText(exportFileName(title), chatAsMarkdown(title, messages))}
        >
          <span aria-hidden="true">⤓</span>
          <span className="word"> Export</span>
        </button>
      ) : null}
      <ConnectionIndicator state={connection.state} attempt={connection.attempt} />
    </header>
  );
}
