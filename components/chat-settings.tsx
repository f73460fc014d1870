"use client";

import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import type { SaveOutcome } from "@/hooks/use-chat-settings";
import { MAX_SYSTEM_PROMPT_CHARS } from "@/lib/contract";

interface Props {
  /** The chat's saved system prompt ("" : none). */
  systemPrompt: string;
  /** A new chat: the prompt is kept until its first message, which carries it. */
  newChat: boolean;
  onSave: (prompt: string) => Promise<SaveOutcome>;
}

type SaveState = { kind: "idle" } | { kind: "saving" } | { kind: "saved" } | { kind: "refused"; reason: string };

/** Counted as the API counts: Unicode code points, not UTF-16 units (so no `maxLength`). */
const lengthOf = (text: string) => [...text].length;

/**
 * "Chat settings": a button in the header and the modal dialog it opens, with the chat's system
 * prompt. The native dialog makes the page behind it inert and closes on Escape; focus goes to the
 * prompt on open and back to the button on close.
 */
export function ChatSettings({ systemPrompt, newChat, onSave }: Props) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState(systemPrompt);
  const [state, setState] = useState<SaveState>({ kind: "idle" });
  const dialogRef = useRef<HTMLDialogElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      textareaRef.current?.focus();
    } else if (!open && dialog.open) dialog.close();
  }, [open]);

  const show = () => {
    setDraft(systemPrompt);
    setState({ kind: "idle" });
    setOpen(true);
  };
  // Every way out (Cancel, Close, Escape) ends here; unsaved text is dropped.
  const onClosed = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };
  const length = lengthOf(draft);
  const tooLong = length > MAX_SYSTEM_PROMPT_CHARS;
  const changed = draft.trim() !== systemPrompt.trim();
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!changed || tooLong || state.kind === "saving") return;
    setState({ kind: "saving" });
    const outcome = await onSave(draft);
    setState(outcome.saved ? { kind: "saved" } : { kind: "refused", reason: outcome.reason });
  };

  return (
    <>
      <button
        ref={buttonRef}
        type="button"
        className="settings"
        aria-label="Chat settings"
        aria-haspopup="dialog"
        aria-describedby={systemPrompt ? `${id}-set` : undefined}
        data-prompt-set={systemPrompt ? "true" : "false"}
        title={systemPrompt ? "Chat settings (a system prompt is set)" : "Chat settings"}
        onClick={show}
      >
        <span aria-hidden="true">⚙</span>
        <span className="word"> Settings</span>
        {systemPrompt ? (
          <span className="prompt-set" id={`${id}-set`}>
            <span className="visually-hidden">A system prompt is set</span>
          </span>
        ) : null}
      </button>
      <dialog ref={dialogRef} className="settings-panel" aria-labelledby={`${id}-title`} onClose={onClosed}>
        {open ? (
          <form onSubmit={(event) => void save(event)}>
            <h2 className="settings-title" id={`${id}-title`}>
              Chat settings
            </h2>
            <label htmlFor={`${id}-prompt`}>System prompt</label>
            <p className="hint" id={`${id}-hint`}>
              {newChat
                ? "Every reply in this chat receives it, from the first message you send."
                : "Every reply in this chat receives it, from the next one on. Leave it empty for none."}
            </p>
            <textarea
              ref={textareaRef}
              id={`${id}-prompt`}
              className="settings-prompt"
              value={draft}
              rows={8}
              aria-describedby={`${id}-hint ${id}-count`}
              aria-invalid={tooLong || undefined}
              onChange={(event) => {
                setDraft(event.target.value);
                if (state.kind !== "saving") setState({ kind: "idle" });
              }}
            />
            <p className={`count ${tooLong ? "over" : ""}`} id={`${id}-count`}>
              {length} / {MAX_SYSTEM_PROMPT_CHARS} characters
              {tooLong ? ` — ${length - MAX_SYSTEM_PROMPT_CHARS} too many` : ""}
            </p>
            {state.kind === "refused" ? (
              <p className="settings-error" role="alert">
                Not saved: {state.reason}
              </p>
            ) : (
              <p className="settings-state" role="status">
                {state.kind === "saving" ? "Saving…" : state.kind === "saved" ? "Saved" : ""}
              </p>
            )}
            <div className="settings-actions">
              <button type="submit" className="primary" disabled={!changed || tooLong || state.kind === "saving"}>
                Save
              </button>
              <button type="button" onClick={() => dialogRef.current?.close()}>
                {changed ? "Cancel" : "Close"}
              </button>
            </div>
          </form>
        ) : null}
      </dialog>
    </>
  );
}
