"use client";

import { useEffect, useState, useSyncExternalStore } from "react";
import { ApiError, api } from "@/lib/client/api";
import type { SearchResult } from "@/lib/contract";

export type SearchState =
  | { kind: "idle" }
  | { kind: "searching"; results: SearchResult[] }
  | { kind: "done"; results: SearchResult[] }
  | { kind: "offline" }
  | { kind: "failed"; message: string };

const DEBOUNCE_MS = 200;
const RESULT_LIMIT = 20;

function subscribeOnline(onChange: () => void) {
  window.addEventListener("online", onChange);
  window.addEventListener("offline", onChange);
  return () => {
    window.removeEventListener("online", onChange);
    window.removeEventListener("offline", onChange);
  };
}
const isOnline = () => navigator.onLine;
const onServer = () => true;

/**
 * Search as the person types: the query waits DEBOUNCE_MS for the typing to pause, a newer query
 * aborts the one before (an old answer never replaces a newer one), and the results stay on screen
 * while the next ones load. Search is the server's: offline it says so instead of asking.
 */
export function useChatSearch() {
  const [query, setQuery] = useState("");
  const [state, setState] = useState<SearchState>({ kind: "idle" });
  const online = useSyncExternalStore(subscribeOnline, isOnline, onServer);

  useEffect(() => {
    const q = query.trim();
    if (!q || !online) {
      setState({ kind: q ? "offline" : "idle" });
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      setState((was) => ({ kind: "searching", results: "results" in was ? was.results : [] }));
      api.search(q, RESULT_LIMIT, controller.signal).then(
        ({ results }) => setState({ kind: "done", results }),
        (error: unknown) => {
          if (controller.signal.aborted) return;
          // A fetch that never reached the server: the network went away under it.
          setState(error instanceof ApiError ? { kind: "failed", message: error.message } : { kind: "offline" });
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [query, online]);

  return { query, setQuery, state };
}
