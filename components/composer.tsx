"use client";

import { type FormEvent, type KeyboardEvent, type Ref, useState } from "react";
import type { SendOutcome } from "@/hooks/use-chat-actions";

interface Props {
  onSend: (content: string) => Promise<SendOutcome>;
  disabled: boolean;
  textareaRef?: Ref<HTMLTextAreaElement>;
}

/**
 * Enter sends, Shift+Enter breaks the line. A running reply never blocks sending. The box empties
 * at once (the message shows in the list), and a refused send puts the draft back with the reason.
 */
export function Composer({ onSend, disabled, textareaRef }: Props) {
  const [draft, setDraft] = useState("");
  const [refusal, setRefusal] = useState<string | null>(null);
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!draft.trim() || disabled) return;
    const content = draft;
    setDraft("");
    setRefusal(null);
    const outcome = await onSend(content);
    if (outcome.sent) return;
    // What was typed since stays; the refused text comes back in front of it.
    setDraft((typed) => (typed ? `${content}\n${typed}` : content));
    setRefusal(outcome.reason);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };
  return (
    <form className="composer" onSubmit={(event) => void submit(event)}>
      {refusal ? (
        <div className="composer-error" role="alert" id="composer-error">
          Not sent: {refusal}
        </div>
      ) : null}
      <div className="composer-row">
        <textarea
          ref={textareaRef}
          aria-label="Message"
          aria-describedby={refusal ? "composer-error" : undefined}
          placeholder="Write a message… (Enter to send, Shift+Enter for a new line)"
          value={draft}
          rows={2}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" disabled={disabled || !draft.trim()}>
          Send
        </button>
      </div>
    </form>
  );
}
