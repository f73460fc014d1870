"use client";

import { useMemo, useRef } from "react";
import { useFollowScroll } from "@/hooks/use-follow-scroll";
import { useProgressiveStart } from "@/hooks/use-progressive-start";
import { versionLookup } from "@/lib/client/branches";
import type { ClientMessage } from "@/lib/client/chat-store";
import { Message, type MessageHandlers } from "./message";

interface Props {
  messages: ClientMessage[];
  /** Running replies that wait for a worker (none takes jobs now). */
  waitingForWorker: ReadonlySet<string>;
  /** Every message of the chat, all branches: `messages` is the visible branch of it. */
  all: ClientMessage[];
  handlers: MessageHandlers;
}

/** The open chat's messages; follows a streaming reply only while the person is at the bottom. */
export function MessageList({ messages, all, waitingForWorker, handlers }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  // A long chat renders from its end up, a frame at a time (the list is keyed per chat).
  const start = useProgressiveStart(messages.length, scroller);
  const versionsIn = useMemo(() => versionLookup(all), [all]);
  const last = messages.at(-1);
  const lastWaits = last ? waitingForWorker.has(last.id) : false;
  // What makes the end move: a new message, more text, a new status or note on the last one, and
  // earlier messages rendered above (a view at the bottom stays there).
  const contentKey = `${start}:${messages.length}:${last?.content.length}:${last?.status}:${last?.retry?.attempt}:${lastWaits}`;
  const sent = messages.filter((m) => m.role === "user").length;
  const { atBottom, onScroll, jumpToLatest } = useFollowScroll(scroller, contentKey, sent);
  return (
    <div className="thread">
      <div className="messages" ref={scroller} onScroll={onScroll}>
        {messages.slice(start).map((message) => (
          <Message
            key={message.id}
            message={message}
            waitsForWorker={waitingForWorker.has(message.id)}
            version={versionOf(versionsIn, message)}
            handlers={handlers}
          />
        ))}
      </div>
      {atBottom ? null : (
        <button type="button" className="jump" onClick={jumpToLatest}>
          Jump to latest <span aria-hidden="true">↓</span>
        </button>
      )}
    </div>
  );
}

const ONE = { index: 0, count: 1 };

/** A message's place among its versions; one object for every message without others (memo keeps). */
function versionOf(
  versionsIn: (message: ClientMessage) => { ids: string[]; index: number },
  message: ClientMessage,
): { index: number; count: number } {
  const { ids, index } = versionsIn(message);
  return ids.length > 1 ? { index, count: ids.length } : ONE;
}
