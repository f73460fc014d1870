"use client";

import { type FormEvent, type KeyboardEvent, useState } from "react";

/** Enter sends, Shift+Enter breaks the line. A running reply never blocks sending. */
export function Composer({ onSend, disabled }: { onSend: (content: string) => void; disabled: boolean }) {
  const [draft, setDraft] = useState("");
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (!draft.trim() || disabled) return;
    onSend(draft);
    setDraft("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        aria-label="Message"
        placeholder="Write a message… (Enter to send, Shift+Enter for a new line)"
        value={draft}
        rows={2}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" disabled={disabled || !draft.trim()}>
        Send
      </button>
    </form>
  );
}
