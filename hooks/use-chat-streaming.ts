"use client";

import { createParser } from "eventsource-parser";
import { useEffect, useRef } from "react";
import { parseReplyEvent, type ReplyEvent } from "@/lib/contract";

export type StreamConnectionState = "connecting" | "connected" | "reconnecting" | "offline" | "expired" | "paused";

export interface ChatStreamingHandlers {
  /** The cursors to resume from, asked at every (re)connect. */
  getCursors: () => string[];
  onEvent: (event: ReplyEvent) => void;
  onState: (state: StreamConnectionState, attempt: number) => void;
  /** Called after every successful (re)connect, to refresh what the stream does not carry. */
  onConnected?: () => void;
}

// Heartbeats come every 15 s; a connection silent for longer than this is dead even if no error says so.
const SILENCE_LIMIT_MS = 40_000;
const MAX_BACKOFF_MS = 30_000;

const isOffline = () => typeof navigator !== "undefined" && !navigator.onLine;

export function backoffDelay(attempt: number): number {
  const capped = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 10));
  return capped / 2 + Math.random() * (capped / 2);
}

/**
 * One SSE connection per tab for every running reply (the all-sessions stream). The handlers live
 * in a ref, so re-renders never reconnect; the effect depends on `enabled` alone. Reconnects use
 * capped exponential backoff with jitter and resume from the cursors, so nothing is lost or doubled.
 */
export function useChatStreaming(enabled: boolean, handlers: ChatStreamingHandlers) {
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;

  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let controller: AbortController | null = null;
    let wake: (() => void) | null = null;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const onOnline = () => wake?.();
    // The browser knows before the socket does: drop the connection and say so at once.
    const onOffline = () => {
      handlersRef.current.onState("offline", 0);
      controller?.abort();
    };
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);

    /** Resolves when the page is next made visible or focused (or the effect stops). */
    const untilLookedAt = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          document.removeEventListener("visibilitychange", onVisibility);
          window.removeEventListener("focus", done);
          wake = null;
          resolve();
        };
        const onVisibility = () => {
          if (document.visibilityState === "visible") done();
        };
        document.addEventListener("visibilitychange", onVisibility);
        window.addEventListener("focus", done);
        wake = done;
      });

    async function connectOnce(): Promise<"closed" | "expired" | "superseded"> {
      controller = new AbortController();
      const cursors = handlersRef.current.getCursors();
      const query = cursors.length ? `?cursors=${encodeURIComponent(cursors.join(","))}` : "";
      let silence: ReturnType<typeof setTimeout> | undefined;
      const feelAlive = () => {
        clearTimeout(silence);
        silence = setTimeout(() => controller?.abort(), SILENCE_LIMIT_MS);
      };
      try {
        feelAlive();
        const response = await fetch(`/api/chat/stream${query}`, {
          headers: { accept: "text/event-stream" },
          credentials: "same-origin",
          signal: controller.signal,
        });
        if (response.status === 401) return "expired";
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        handlersRef.current.onState("connected", 0);
        handlersRef.current.onConnected?.();
        let superseded = false;
        const parser = createParser({
          onEvent: (message) => {
            // Too many streams of this person are open (other tabs): this one was closed for a newer one.
            if (message.event === "reconnect" && message.data.includes('"superseded"')) superseded = true;
            // Checked against the contract's schema: an event that does not match it is dropped.
            const event = message.event ? parseReplyEvent(message.event, message.data) : null;
            if (event) handlersRef.current.onEvent(event);
          },
        });
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          feelAlive();
          parser.feed(decoder.decode(read.value, { stream: true }));
        }
        return superseded ? "superseded" : "closed";
      } finally {
        clearTimeout(silence);
      }
    }

    (async () => {
      let failures = 0;
      while (!stopped) {
        if (isOffline()) {
          handlersRef.current.onState("offline", failures);
          await sleep(MAX_BACKOFF_MS); // the "online" event wakes it sooner
          continue;
        }
        try {
          const outcome = await connectOnce();
          if (outcome === "expired") {
            handlersRef.current.onState("expired", 0);
            return;
          }
          if (outcome === "superseded") {
            // Back only when the person looks at this tab again: tabs never take turns pushing
            // each other out.
            handlersRef.current.onState("paused", 0);
            await untilLookedAt();
            continue;
          }
          failures = 0; // the server closed a healthy stream (its time limit): come straight back
        } catch {
          if (stopped) return;
          if (isOffline()) continue;
          failures++;
          handlersRef.current.onState(isOffline() ? "offline" : "reconnecting", failures);
          await sleep(backoffDelay(failures));
        }
      }
    })();

    return () => {
      stopped = true;
      controller?.abort();
      wake?.();
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
    };
  }, [enabled]);
}
