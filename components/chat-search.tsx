"use client";

import { type KeyboardEvent, type MouseEvent, useEffect, useId, useRef } from "react";
import { type SearchState, useChatSearch } from "@/hooks/use-chat-search";
import { snippetParts } from "@/lib/client/search-snippet";
import type { SearchResult } from "@/lib/contract";
import { shortTime } from "./dates";

interface Props {
  /** A result was chosen: open its chat at its message. */
  onOpen: (result: SearchResult) => void;
  /** The box is hidden (the phone's closed menu) and Ctrl/Cmd+K wants it: show it. */
  onReveal: () => void;
}

function statusText(state: SearchState): string {
  switch (state.kind) {
    case "idle":
      return "";
    case "offline":
      return "Search needs the network. Try again once you are back online.";
    case "failed":
      return `Search failed: ${state.message}`;
    case "searching":
      return state.results.length ? "" : "Searching…";
    case "done":
      if (state.results.length === 0) return "No messages match.";
      return state.results.length === 1 ? "1 message" : `${state.results.length} messages`;
  }
}

const isShortcut = (event: globalThis.KeyboardEvent) =>
  event.key.toLowerCase() === "k" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;

/** Focuses the box, after the menu that holds it has been shown (a frame or two). */
function focusWhenShown(box: HTMLInputElement, frames = 10) {
  box.focus();
  box.select();
  if (document.activeElement !== box && frames > 0) window.requestAnimationFrame(() => focusWhenShown(box, frames - 1));
}

/** The sidebar's search: a box (Ctrl/Cmd+K from anywhere), its results below it, each opening its chat at the message. */
export function ChatSearch({ onOpen, onReveal }: Props) {
  const { query, setQuery, state } = useChatSearch();
  const box = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const reveal = useRef(onReveal);
  reveal.current = onReveal;
  const listId = useId();
  const statusId = useId();
  const results = "results" in state ? state.results : [];

  useEffect(() => {
    const onKeyDown = (event: globalThis.KeyboardEvent) => {
      const input = box.current;
      if (!isShortcut(event) || !input) return;
      event.preventDefault();
      // The box may sit in a closed phone menu (or one still sliding shut): the app opens it if so.
      reveal.current();
      focusWhenShown(input);
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, []);

  const links = () => [...(list.current?.querySelectorAll<HTMLAnchorElement>("a") ?? [])];
  const onBoxKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Escape" && query) {
      // Clears the search only; a second Escape may close the phone's menu.
      event.stopPropagation();
      event.preventDefault();
      setQuery("");
    } else if (event.key === "ArrowDown" && results.length) {
      event.preventDefault();
      links()[0]?.focus();
    } else if (event.key === "Enter" && results[0]) {
      event.preventDefault();
      onOpen(results[0]);
    }
  };
  const onListKey = (event: KeyboardEvent<HTMLUListElement>) => {
    const all = links();
    const at = all.indexOf(document.activeElement as HTMLAnchorElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = at + (event.key === "ArrowDown" ? 1 : -1);
      (next < 0 ? box.current : all[Math.min(next, all.length - 1)])?.focus();
    } else if (event.key === "Escape") {
      event.stopPropagation();
      box.current?.focus();
    }
  };
  const choose = (event: MouseEvent<HTMLAnchorElement>, result: SearchResult) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onOpen(result);
  };

  return (
    <search className="chat-search">
      <input
        ref={box}
        type="search"
        aria-label="Search chats"
        placeholder="Search chats"
        title="Search chats (Ctrl+K, ⌘K)"
        aria-keyshortcuts="Control+K Meta+K"
        aria-controls={results.length ? listId : undefined}
        aria-describedby={statusId}
        autoComplete="off"
        enterKeyHint="search"
        maxLength={200}
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        onKeyDown={onBoxKey}
      />
      <p id={statusId} className="search-status" role="status" data-state={state.kind}>
        {statusText(state)}
      </p>
      {results.length ? (
        <ul
          id={listId}
          ref={list}
          className="search-results"
          aria-label="Search results"
          aria-busy={state.kind === "searching"}
          onKeyDown={onListKey}
        >
          {results.map((result) => (
            <li key={result.messageId}>
              <a
                href={`/chat/${result.sessionId}`}
                data-result-message-id={result.messageId}
                onClick={(event) => choose(event, result)}
              >
                <span className="result-title">{result.title}</span>
                <span className="result-snippet">
                  {snippetParts(result.snippet).map((part, index) =>
                    // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string, in order
                    part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
                  )}
                </span>
                <time dateTime={result.createdAt}>{shortTime(result.createdAt)}</time>
              </a>
            </li>
          ))}
        </ul>
      ) : null}
    </search>
  );
}
