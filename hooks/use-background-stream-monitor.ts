"use client";

import { useEffect, useRef } from "react";
import type { ActiveStream } from "@/lib/contract";

/**
 * Keeps the list of running replies current from /api/chat/active-streams: on start, when the tab
 * regains focus or visibility, and after every reconnect, so a reply started in another tab or on
 * another device shows up.
 */
export function useBackgroundStreamMonitor(
  enabled: boolean,
  load: () => Promise<ActiveStream[]>,
  onStreams: (streams: ActiveStream[]) => void,
) {
  const handlers = useRef({ load, onStreams });
  handlers.current = { load, onStreams };

  useEffect(() => {
    if (!enabled) return;
    const refresh = () => {
      handlers.current
        .load()
        .then((streams) => handlers.current.onStreams(streams))
        .catch(() => {});
    };
    refresh();
    const onVisible = () => document.visibilityState === "visible" && refresh();
    window.addEventListener("focus", refresh);
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      window.removeEventListener("focus", refresh);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [enabled]);
}
