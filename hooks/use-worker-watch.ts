"use client";

import { useEffect, useRef, useState } from "react";
import { type ClientMessage, isRunning } from "@/lib/client/chat-store";

/** A running reply with no news for this long may be waiting for a worker: ask /api/health. */
const QUIET_MS = 4_000;
const POLL_MS = 3_000;
const NONE: ReadonlySet<string> = new Set();

/**
 * The running replies on screen that wait for a worker: nothing has moved for a few seconds and
 * /api/health says no worker takes jobs (in the Redis mode, every worker is gone). Polls health
 * only while a reply on screen is quiet; a reply that moves is dropped from the set at once.
 */
export function useWorkerWatch(messages: readonly ClientMessage[]): ReadonlySet<string> {
  const marks = useRef(new Map<string, { mark: string; at: number }>());
  const [waiting, setWaiting] = useState<ReadonlySet<string>>(NONE);
  const now = Date.now();
  const running: string[] = [];
  for (const message of messages) {
    if (message.role !== "assistant" || !isRunning(message)) continue;
    running.push(message.id);
    const mark = `${message.status}:${message.attempt}:${message.seq}:${message.content.length}`;
    if (marks.current.get(message.id)?.mark !== mark) marks.current.set(message.id, { mark, at: now });
  }
  const runningKey = running.join(",");

  useEffect(() => {
    if (!runningKey) {
      setWaiting(NONE);
      return;
    }
    const ids = runningKey.split(",");
    for (const id of marks.current.keys()) if (!ids.includes(id)) marks.current.delete(id);
    let live = true;
    const check = async () => {
      const quiet = ids.filter((id) => Date.now() - (marks.current.get(id)?.at ?? Date.now()) >= QUIET_MS);
      if (quiet.length === 0) {
        setWaiting(NONE);
        return;
      }
      // 503 with a body when a part is down; an unreachable server (offline) says nothing of workers.
      const health = await fetch("/api/health", { cache: "no-store" })
        .then((response) => response.json() as Promise<{ worker?: string }>)
        .catch(() => null);
      if (live) setWaiting(health?.worker === "stale" ? new Set(quiet) : NONE);
    };
    const timer = setInterval(() => void check(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [runningKey]);

  if (waiting.size === 0) return NONE;
  // A reply that moved since the last check no longer waits.
  const still = [...waiting].filter((id) => now - (marks.current.get(id)?.at ?? now) >= QUIET_MS);
  return still.length === waiting.size ? waiting : new Set(still);
}
