"use client";

import { type RefObject, useEffect, useLayoutEffect, useState } from "react";

/** Messages rendered when a chat opens, at its end (as many again, before the paint, while they do not fill the view). */
export const FIRST_PAINT = 6;
/** Messages added above them per frame after that. */
const STEP = 40;

/** Runs `work` once the next frame is painted (at once in a hidden tab, where no frame comes). */
function afterNextPaint(work: () => void): () => void {
  if (document.hidden) {
    const timer = setTimeout(work, 0);
    return () => clearTimeout(timer);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const frame = requestAnimationFrame(() => {
    timer = setTimeout(work, 0);
  });
  return () => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}

/**
 * Where a long chat's rendering starts. A chat opens at its end, so its last FIRST_PAINT messages
 * are rendered first (as many again, before the paint, while they do not fill `scroller`), and
 * the ones above come STEP at a time, a frame each, until all are in the page: find-in-page and
 * every message's handles work a moment later. Rendering all 200 messages of a chat (Markdown,
 * highlighting, layout) before its first frame was most of the time it took to open
 * (docs/benchmarks.md, Opening a cached chat).
 */
export function useProgressiveStart(count: number, scroller: RefObject<HTMLElement | null>): number {
  const [from, setFrom] = useState(() => Math.max(0, count - FIRST_PAINT));
  // Never more hidden than all but the last FIRST_PAINT (the list can shrink: another branch shown).
  const start = Math.min(from, Math.max(0, count - FIRST_PAINT));
  // A state update in a layout effect renders again before the browser paints: no frame shows a
  // view with blank space above its messages.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (start > 0 && element && element.scrollHeight <= element.clientHeight) setFrom(Math.max(0, start - FIRST_PAINT));
  }, [start, scroller]);
  useEffect(() => {
    if (start === 0) return;
    return afterNextPaint(() => setFrom(Math.max(0, start - STEP)));
  }, [start]);
  return start;
}
