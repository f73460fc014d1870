"use client";

import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { api } from "@/lib/client/api";
import { leafUnder, visibleBranch } from "@/lib/client/branches";
import type { ChatStore } from "@/lib/client/chat-store";
import { navigate } from "@/lib/client/navigate";

interface Target {
  sessionId: string;
  messageId: string;
}

// How long to look for the message's element once it is on the visible branch (a list that
// renders in steps may take a few frames).
const MAX_FRAMES = 120;
// How long the message is held in view while the chat settles: a list from the server may arrive
// after the cache's and move the view to its end, or bring the visible branch of a moment ago.
const HOLD_MS = 4000;
// What a person does to take the view over: the hold ends at once.
const TAKEOVER_EVENTS = ["wheel", "pointerdown", "touchstart", "keydown"] as const;
export const SEARCH_HIT_ATTRIBUTE = "data-search-hit";

const elementOf = (messageId: string) =>
  document.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(messageId)}"]`);

function inView(element: HTMLElement): boolean {
  const box = element.getBoundingClientRect();
  return box.bottom > 0 && box.top < window.innerHeight;
}

/**
 * Scrolls to the message's element once it is in the page, marks it (the CSS flashes it) and
 * focuses it; after that (`shown`), only brings it back when something moved it out of view.
 */
function revealWhenRendered(messageId: string, shown: { current: boolean }): () => void {
  let frame = 0;
  let handle = 0;
  const look = () => {
    const element = elementOf(messageId);
    if (!element) {
      if (++frame < MAX_FRAMES) handle = window.requestAnimationFrame(look);
      return;
    }
    if (!element.hasAttribute(SEARCH_HIT_ATTRIBUTE)) {
      for (const old of document.querySelectorAll(`[${SEARCH_HIT_ATTRIBUTE}]`))
        old.removeAttribute(SEARCH_HIT_ATTRIBUTE);
      element.setAttribute(SEARCH_HIT_ATTRIBUTE, "true");
    }
    if (!shown.current || !inView(element)) element.scrollIntoView({ block: "center" });
    if (shown.current) return;
    shown.current = true;
    // The keyboard lands where the eyes do (a screen reader reads the message found).
    if (!element.hasAttribute("tabindex")) element.setAttribute("tabindex", "-1");
    element.focus({ preventScroll: true });
  };
  handle = window.requestAnimationFrame(look);
  return () => window.cancelAnimationFrame(handle);
}

/**
 * Opens a chat at one of its messages (a search result): switches to the chat, waits until the
 * message is in the store, makes its branch the visible one when it is on another (its newest
 * leaf, kept on the server as a version choice is), scrolls to it, and holds it in view until the
 * chat settles or the person scrolls, clicks or types.
 */
export function useSearchJump(store: ChatStore, openSessionId: string | null) {
  const [target, setTarget] = useState<Target | null>(null);
  const revealed = useRef(false);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const list = target ? state.messages[target.sessionId] : undefined;
  const leaf = target ? state.leaves[target.sessionId] : undefined;

  useEffect(() => {
    if (!target) return;
    const release = () => setTarget(null);
    const timer = window.setTimeout(release, HOLD_MS);
    for (const name of TAKEOVER_EVENTS) window.addEventListener(name, release, { capture: true, passive: true });
    return () => {
      window.clearTimeout(timer);
      for (const name of TAKEOVER_EVENTS) window.removeEventListener(name, release, { capture: true });
    };
  }, [target]);

  useEffect(() => {
    if (!target) return;
    // Another chat was opened meanwhile: that choice wins.
    if (openSessionId !== target.sessionId) {
      if (window.location.pathname !== `/chat/${target.sessionId}`) setTarget(null);
      return;
    }
    if (!list?.some((message) => message.id === target.messageId)) return; // not loaded yet
    if (!visibleBranch(list, leaf).some((message) => message.id === target.messageId)) {
      const newLeaf = leafUnder(list, target.messageId);
      store.setLeaf(target.sessionId, newLeaf);
      api.setLeaf(target.sessionId, newLeaf).catch(() => {});
      return; // runs again with the branch on screen
    }
    return revealWhenRendered(target.messageId, revealed);
  }, [target, openSessionId, list, leaf, store]);

  return useCallback((result: Target) => {
    navigate(`/chat/${result.sessionId}`);
    revealed.current = false;
    setTarget({ sessionId: result.sessionId, messageId: result.messageId });
  }, []);
}
