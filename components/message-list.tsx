"use client";

import { useEffect, useRef } from "react";
import { type ClientMessage, isRunning } from "@/lib/client/chat-store";
import { Markdown } from "./markdown";

interface Props {
  messages: ClientMessage[];
  /** Running replies that wait for a worker (none takes jobs now). */
  waitingForWorker: ReadonlySet<string>;
  onStop: (message: ClientMessage) => void;
  onRetry: (message: ClientMessage) => void;
}

export function MessageList({ messages, waitingForWorker, onStop, onRetry }: Props) {
  const end = useRef<HTMLDivElement>(null);
  const last = messages.at(-1);
  const lastWaits = last ? waitingForWorker.has(last.id) : false;
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the last message grows or gets a note
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [messages.length, last?.content.length, last?.status, last?.retry?.attempt, lastWaits]);
  return (
    <div className="messages">
      {messages.map((message) => (
        <article
          key={message.id}
          className={`message message-${message.role}`}
          data-message-id={message.id}
          data-role={message.role}
          data-status={message.status}
        >
          {message.content ? (
            <div className="text">
              {message.role === "assistant" ? <Markdown text={message.content} /> : message.content}
            </div>
          ) : null}
          {message.role === "assistant" && isRunning(message) && !message.content ? (
            <div className="typing" role="status" aria-label={message.status === "queued" ? "Queued" : "Writing"}>
              <span />
              <span />
              <span />
              {message.status === "queued" ? <em>queued</em> : null}
            </div>
          ) : null}
          {message.role === "assistant" && isRunning(message) ? (
            <button type="button" className="stop" onClick={() => onStop(message)}>
              Stop
            </button>
          ) : null}
          {message.role === "assistant" && isRunning(message) && waitingForWorker.has(message.id) ? (
            <div className="note waiting" role="status">
              Waiting for a worker to write this reply… it goes on by itself once one is back.
            </div>
          ) : message.role === "assistant" && isRunning(message) && message.retry ? (
            <div className="note retry" role="status">
              {retryNotice(message.retry)}
            </div>
          ) : null}
          {message.status === "cancelled" ? <div className="note">Stopped</div> : null}
          {message.role === "user" && message.status === "queued" ? (
            <div className="note">Waiting for the network — it is sent once you are back online.</div>
          ) : null}
          {message.status === "error" ? (
            <div className="error" role="alert">
              {errorSentence(message.error)}
              <button type="button" onClick={() => onRetry(message)}>
                Retry
              </button>
            </div>
          ) : null}
        </article>
      ))}
      <div ref={end} />
    </div>
  );
}

/** What a person reads while an attempt after the first runs: quiet, and never a blank bubble. */
function retryNotice(retry: NonNullable<ClientMessage["retry"]>): string {
  switch (retry.reason) {
    case "worker_lost":
      return "Resuming after a restart…";
    case "store_lost":
      return "Recovering the reply after a server restart…";
    case "rate_limited":
      return `The model is busy; retrying (attempt ${retry.attempt})…`;
    case "model_error":
      return `Retrying (attempt ${retry.attempt})…`;
  }
}

/** A final error in a sentence a person understands (the server's message, or one for its code). */
function errorSentence(error: ClientMessage["error"]): string {
  if (error?.message) return error.message;
  if (error?.code === "worker_lost") return "The reply was interrupted by a server restart. Please try again.";
  return "The reply could not be written. Retry to ask again.";
}
