// In-page timing for bench/cached-chat.ts. "Painted" means what a person sees of a long chat when
// it opens: its last message in the DOM, the list scrolled to its bottom, and the frame after that
// drawn. The probe runs in the page (a MutationObserver, then a requestAnimationFrame and a task
// after it, which runs once that frame is painted), so Playwright's polling adds nothing to it.

declare global {
  interface Window {
    /** performance.now() at the first paint of the chat ending at the probed message. */
    __painted?: Promise<number>;
    /** performance.now() at the first paint with all of the chat's messages in the DOM. */
    __whole?: Promise<number>;
    /** The click's own timestamp (performance.now() time base) that started a switch. */
    __clickedAt?: number;
  }
}

export interface ProbedChat {
  lastMessageId: string;
  /** How many messages the chat shows once it is whole. */
  count: number;
}

/** Sets `window.__painted` and `window.__whole`. Self-contained: Playwright sends its source to the page. */
export function installPaintProbe({ lastMessageId, count }: ProbedChat): void {
  const SLACK_PX = 32; // hooks/use-follow-scroll.ts: this close to the end is "at the bottom"
  const atBottom = () => {
    const last = document.querySelector(`[data-message-id="${lastMessageId}"]`);
    const list = last?.closest(".messages");
    return list ? list.scrollHeight - list.scrollTop - list.clientHeight <= SLACK_PX : false;
  };
  const whole = () => atBottom() && document.querySelectorAll("[data-message-id]").length >= count;
  const paintedOnce = (shown: () => boolean) =>
    new Promise<number>((resolve) => {
      const afterPaint = () =>
        requestAnimationFrame(() => {
          const channel = new MessageChannel();
          channel.port1.onmessage = () => resolve(performance.now());
          channel.port2.postMessage(null);
        });
      if (shown()) return afterPaint();
      const observer = new MutationObserver(() => {
        if (!shown()) return;
        observer.disconnect();
        afterPaint();
      });
      observer.observe(document, { childList: true, subtree: true });
    });
  window.__painted = paintedOnce(atBottom);
  window.__whole = paintedOnce(whole);
}

/** Remembers when the next click on a link to `path` happened (the event's own timestamp). */
export function recordClickOn(path: string): void {
  window.__clickedAt = undefined;
  const onClick = (event: MouseEvent) => {
    if (!(event.target instanceof Element) || !event.target.closest(`a[href="${path}"]`)) return;
    window.__clickedAt = event.timeStamp;
    document.removeEventListener("click", onClick, true);
  };
  document.addEventListener("click", onClick, true);
}
