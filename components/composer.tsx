"use client";

import { type FormEvent, type KeyboardEvent, type Ref, useEffect, useState } from "react";
import type { SendOutcome } from "@/hooks/use-chat-actions";
import type { ModelChoice } from "@/hooks/use-models";

interface Props {
  /** `model`: the one chosen in the picker (unset: the server's default). */
  onSend: (content: string, model?: string) => Promise<SendOutcome>;
  disabled: boolean;
  /** The models to choose from; the picker shows when there is more than one. */
  models: ModelChoice[];
  textareaRef?: Ref<HTMLTextAreaElement>;
}

const MODEL_KEY = "backchannel:model";
/** The draft, kept in this tab's sessionStorage: it outlives a sign-in's trip to the provider and back. */
export const DRAFT_KEY = "backchannel:draft";

/**
 * Enter sends, Shift+Enter breaks the line. A running reply never blocks sending. The box empties
 * at once (the message shows in the list), and a refused send puts the draft back with the reason.
 */
export function Composer({ onSend, disabled, models, textareaRef }: Props) {
  const [draft, setDraft] = useState("");
  const [refusal, setRefusal] = useState<string | null>(null);
  // The chosen model is remembered in this browser; one this server no longer serves falls back.
  const [model, setModel] = useState<string | undefined>(undefined);
  useEffect(() => {
    const remembered = window.localStorage.getItem(MODEL_KEY);
    if (remembered && models.some((m) => m.id === remembered)) setModel(remembered);
  }, [models]);
  const choose = (id: string) => {
    setModel(id);
    window.localStorage.setItem(MODEL_KEY, id);
  };
  const chosen = model && models.some((m) => m.id === model) ? model : undefined;
  // Read once mounted (the server renders an empty box), then written with every change.
  const [restored, setRestored] = useState(false);
  useEffect(() => {
    const kept = window.sessionStorage.getItem(DRAFT_KEY);
    if (kept) setDraft((typed) => typed || kept);
    setRestored(true);
  }, []);
  useEffect(() => {
    if (!restored) return;
    if (draft) window.sessionStorage.setItem(DRAFT_KEY, draft);
    else window.sessionStorage.removeItem(DRAFT_KEY);
  }, [draft, restored]);
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!draft.trim() || disabled) return;
    const content = draft;
    setDraft("");
    setRefusal(null);
    const outcome = await onSend(content, chosen);
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
        {models.length > 1 ? (
          <select
            className="model-picker"
            aria-label="Model"
            value={chosen ?? models[0]?.id}
            onChange={(event) => choose(event.target.value)}
          >
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
        ) : null}
        <button type="submit" disabled={disabled || !draft.trim()}>
          Send
        </button>
      </div>
    </form>
  );
}
