"use client";

import { memo, useContext, useState } from "react";
import { type ClientMessage, isRunning } from "@/lib/client/chat-store";
import { longTime, shortTime } from "./dates";
import { Markdown } from "./markdown";
import { MaxAttemptsContext } from "./reply-settings";

/** What can be done with a message (one object for the whole list, so memo keeps each message). */
export interface MessageHandlers {
  onStop: (message: ClientMessage) => void;
  onRetry: (message: ClientMessage) => void;
  onRegenerate: (message: ClientMessage) => void;
  onVersion: (message: ClientMessage, step: -1 | 1) => void;
  /** Sends `content` as a new version of this (user) message; resolves false when it was refused. */
  onEdit: (message: ClientMessage, content: string) => Promise<boolean>;
}

interface Props {
  message: ClientMessage;
  waitsForWorker: boolean;
  /** Its place among the versions beside it (a regenerate or an edit made them). */
  version: { index: number; count: number };
  handlers: MessageHandlers;
}

/** One message: an article named by its speaker, its text, its notes and what can be done with it. */
export const Message = memo(function Message({ message, waitsForWorker, version, handlers }: Props) {
  const { onStop, onRetry, onRegenerate, onVersion, onEdit } = handlers;
  const assistant = message.role === "assistant";
  const running = assistant && isRunning(message);
  const [editing, setEditing] = useState(false);
  const maxAttempts = useContext(MaxAttemptsContext);
  // A message that was sent (not one waiting in the outbox) can be edited into a new version.
  const editable = !assistant && message.status === "completed" && !message.id.startsWith("pending:");
  return (
    <article
      className={`message message-${message.role}`}
      data-message-id={message.id}
      data-role={message.role}
      data-status={message.status}
      data-parent-id={message.parentId ?? undefined}
      aria-label={assistant ? "Assistant" : "You"}
    >
      {assistant ? (
        // One polite region per reply, busy while it streams: read once it is whole, not per chunk.
        <div aria-live="polite" aria-busy={running}>
          {message.content ? (
            <div className="text">
              <Markdown text={message.content} streaming={running} />
            </div>
          ) : null}
        </div>
      ) : editing ? (
        <EditForm
          initial={message.content}
          onCancel={() => setEditing(false)}
          onSave={async (content) => {
            if (await onEdit(message, content)) setEditing(false);
          }}
        />
      ) : message.content ? (
        <div className="text">{message.content}</div>
      ) : null}
      {running && !message.content ? (
        <div className="typing" role="status" aria-label={message.status === "queued" ? "Queued" : "Writing"}>
          <span />
          <span />
          <span />
          {message.status === "queued" ? <em>queued</em> : null}
        </div>
      ) : null}
      {running ? (
        <button type="button" className="stop" onClick={() => onStop(message)}>
          Stop
        </button>
      ) : null}
      {running && waitsForWorker ? (
        <div className="note waiting" role="status">
          Waiting for a worker to write this reply… it goes on by itself once one is back.
        </div>
      ) : running && message.retry ? (
        <div className="note retry" role="status">
          {retryNotice(message.retry, maxAttempts)}
        </div>
      ) : null}
      {message.status === "cancelled" ? <div className="note">Stopped</div> : null}
      {message.role === "user" && message.status === "queued" ? (
        <div className="note">
          {message.waitsFor === "sign-in"
            ? "Waiting for you to sign in — it is sent once you have."
            : "Waiting for the network — it is sent once you are back online."}
        </div>
      ) : null}
      {message.status === "error" ? (
        <div className="error" role="alert">
          {errorSentence(message.error)}
          <button type="button" onClick={() => onRetry(message)}>
            Retry
          </button>
        </div>
      ) : null}
      {version.count > 1 || (assistant && !running) || (editable && !editing) ? (
        <div className="message-actions">
          {version.count > 1 ? (
            <span className="versions">
              <button
                type="button"
                aria-label="Previous version"
                disabled={version.index === 0}
                onClick={() => onVersion(message, -1)}
              >
                ‹
              </button>
              <span className="version-count">
                {version.index + 1} / {version.count}
              </span>
              <button
                type="button"
                aria-label="Next version"
                disabled={version.index === version.count - 1}
                onClick={() => onVersion(message, 1)}
              >
                ›
              </button>
            </span>
          ) : null}
          {assistant && !running && message.content ? <CopyReply text={message.content} /> : null}
          {assistant && !running ? (
            <button type="button" className="regenerate" onClick={() => onRegenerate(message)}>
              Regenerate
            </button>
          ) : null}
          {editable && !editing ? (
            <button type="button" className="edit" onClick={() => setEditing(true)}>
              Edit
            </button>
          ) : null}
        </div>
      ) : null}
      <time className="stamp" dateTime={message.createdAt} title={longTime(message.createdAt)}>
        {shortTime(message.createdAt)}
      </time>
    </article>
  );
});

/** A sent message's text, editable; saving sends it as a new version beside the old one. */
function EditForm({
  initial,
  onSave,
  onCancel,
}: {
  initial: string;
  onSave: (content: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [text, setText] = useState(initial);
  const [saving, setSaving] = useState(false);
  const save = async () => {
    if (!text.trim() || saving) return;
    setSaving(true);
    await onSave(text);
    setSaving(false);
  };
  return (
    <form
      className="edit-form"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <textarea
        aria-label="Edit message"
        value={text}
        // biome-ignore lint/a11y/noAutofocus: the person just asked to edit this message
        autoFocus
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onCancel();
          if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
            event.preventDefault();
            void save();
          }
        }}
      />
      <div className="edit-actions">
        <button type="submit" disabled={!text.trim() || saving}>
          Send edit
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CopyReply({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // No clipboard (plain http, or permission refused): nothing to say but that it did not work.
    }
  };
  return (
    <>
      <button type="button" className="copy-reply" onClick={copy}>
        Copy reply
      </button>
      <span role="status" className="copied">
        {copied ? "Copied" : ""}
      </span>
    </>
  );
}

/** What a person reads while an attempt after the first runs: quiet, and never a blank bubble. */
function retryNotice(retry: NonNullable<ClientMessage["retry"]>, maxAttempts: number | null): string {
  // Takeovers use attempts too, so a retry may be the last even when it is not the second.
  const which =
    maxAttempts && retry.attempt <= maxAttempts ? `${retry.attempt} of ${maxAttempts}` : `attempt ${retry.attempt}`;
  switch (retry.reason) {
    case "worker_lost":
      return "Resuming after a restart…";
    case "store_lost":
      return "Recovering the reply after a server restart…";
    case "rate_limited":
      return `The model is busy; retrying (${which})…`;
    case "model_error":
      return `Retrying (${which})…`;
  }
}

/** A final error in a sentence a person understands (the server's message, or one for its code). */
function errorSentence(error: ClientMessage["error"]): string {
  if (error?.message) return error.message;
  if (error?.code === "worker_lost") return "The reply was interrupted by a server restart. Please try again.";
  return "The reply could not be written. Retry to ask again.";
}
