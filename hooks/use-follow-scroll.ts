"use client";

import { type RefObject, useCallback, useLayoutEffect, useRef, useState } from "react";

// This close to the end still counts as "at the bottom": rounding, and a line that just arrived.
const SLACK_PX = 32;

/**
 * Keeps a scrolling list at its bottom while the person is there: when `contentKey` changes
 * (a reply grew, a note came) it scrolls down only if it was following. Scrolling up stops
 * following; `jumpToLatest`, and every change of `sendKey` (a message sent), follow again.
 */
export function useFollowScroll(ref: RefObject<HTMLElement | null>, contentKey: string, sendKey: number) {
  // A ref for the effects (they must not wait for a render), state for the button.
  const following = useRef(true);
  const [atBottom, setAtBottom] = useState(true);

  const follow = useCallback(() => {
    following.current = true;
    setAtBottom(true);
    const element = ref.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [ref]);

  // The list's size when last seen: a scroll that comes with a new size is the layout's doing (a
  // resize, and the browser's scroll anchoring after it), not the person's.
  const size = useRef({ width: 0, height: 0 });
  const resized = useCallback((element: HTMLElement) => {
    const { clientWidth: width, clientHeight: height } = element;
    if (width === size.current.width && height === size.current.height) return false;
    size.current = { width, height };
    return true;
  }, []);

  const onScroll = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    if (resized(element) && following.current) {
      element.scrollTop = element.scrollHeight;
      return;
    }
    const bottom = element.scrollHeight - element.scrollTop - element.clientHeight <= SLACK_PX;
    following.current = bottom;
    setAtBottom(bottom);
  }, [ref, resized]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the content changes
  useLayoutEffect(() => {
    const element = ref.current;
    if (following.current && element) element.scrollTop = element.scrollHeight;
  }, [contentKey, ref]);

  // A view that follows stays at the end when the list itself changes size: a phone's keyboard
  // opening, a rotation, a window made narrower (its lines re-wrap, taller).
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === "undefined") return;
    resized(element);
    const observer = new ResizeObserver(() => {
      if (resized(element) && following.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref, resized]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when a message is sent
  useLayoutEffect(follow, [sendKey, follow]);

  return { atBottom, onScroll, jumpToLatest: follow };
}
