"use client";

import type { MouseEvent } from "react";
import { navigate } from "@/lib/client/navigate";

/**
 * The outline of a chat while its messages load (the cache opens after a reload). Offline, a chat
 * this browser never cached cannot load: say so instead of pulsing for ever.
 */
export function ChatSkeleton({ offline = false }: { offline?: boolean }) {
  if (offline) {
    return (
      <div className="empty" role="status">
        <p>This chat is not saved in this browser yet. It opens once you are back online.</p>
      </div>
    );
  }
  return (
    <div className="messages skeleton" role="status" aria-label="Loading the chat">
      <span className="bubble user" />
      <span className="bubble assistant" />
      <span className="bubble assistant short" />
    </div>
  );
}

/** What an address that names no chat of this person shows: a sentence and the way back. */
export function ChatNotFound({ onBack }: { onBack: () => void }) {
  const back = (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    navigate("/");
    onBack();
  };
  return (
    <div className="empty not-found" role="alert">
      <p>This chat does not exist, or it was deleted.</p>
      <p>
        <a href="/" onClick={back}>
          Start a new chat
        </a>
      </p>
    </div>
  );
}

export function NewChatIntro() {
  return (
    <div className="empty">
      <p>Ask anything. Replies keep coming while you switch chats, reload, or go offline.</p>
      <p className="hint">
        Try <code>/mock tokens=600 tps=40</code> on the first line for a long reply.
      </p>
    </div>
  );
}
