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

  const onScroll = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    const bottom = element.scrollHeight - element.scrollTop - element.clientHeight <= SLACK_PX;
    following.current = bottom;
    setAtBottom(bottom);
  }, [ref]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the content changes
  useLayoutEffect(() => {
    const element = ref.current;
    if (following.current && element) element.scrollTop = element.scrollHeight;
  }, [contentKey, ref]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when a message is sent
  useLayoutEffect(follow, [sendKey, follow]);

  return { atBottom, onScroll, jumpToLatest: follow };
}
