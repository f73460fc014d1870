import { readFileSync } from "node:fs";
import net from "node:net";
import type { RunningApp } from "./app";
import type { ApiClient } from "./client";

// The replay memory probe (issue 13): one guest's long replies, then streams whose `?cursors=`
// name all of them, opened on raw sockets that are never read. Shared by
// tests/api/replay-memory.test.ts (the bound) and bench/replay-memory.ts (the figures).

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.replace(/\D+/g, "") ?? 0) * 1024;
}

/** Sends `count` long replies (about 13,000 characters each, 3,000 mock tokens) and waits for their ends. */
export async function seedLongReplies(
  client: ApiClient,
  count: number,
): Promise<{ ids: string[]; sessionOf: string[] }> {
  const ids: string[] = [];
  const sessionOf: string[] = [];
  for (let i = 0; i < count; i++) {
    const turn = await client.send(`/mock tokens=3000 tps=0 ttft=0\nA long answer, number ${i}`);
    ids.push(turn.assistantMessageId);
    sessionOf.push(turn.sessionId);
  }
  for (let i = 0; i < 240; i++) {
    const { body } = await client.json<{ streams: unknown[] }>("/api/chat/active-streams");
    if (body.streams.length === 0) return { ids, sessionOf };
    await sleep(500);
  }
  throw new Error("the long replies did not end");
}

/** A stream request on a raw socket that is never read: the server's writes pile up on its side. */
export function openUnread(app: RunningApp, cookie: string, path: string): Promise<net.Socket> {
  const { hostname, port } = new URL(app.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nCookie: ${cookie}\r\nAccept: text/event-stream\r\n\r\n`,
      );
      socket.pause();
      resolve(socket);
    });
    socket.setNoDelay(true);
    socket.once("error", reject);
  });
}

/** Asks a process started with GC_ON_SIGNAL for a full collection, and lets it settle. */
async function collect(pid: number) {
  process.kill(pid, "SIGUSR2");
  await sleep(1_000);
}

export interface ReplayMemoryFigures {
  /** Web RSS before the streams open (MiB). */
  baseline: number;
  /** The most the web RSS rose above it while they were open (MiB). */
  peak: number;
  /** How far above the baseline it was `settleMs` after they closed, with no help (MiB). */
  after: number;
  /** Seconds from the close until the RSS was within `tolerance` of the baseline (null: not within the wait). */
  settledIn: number | null;
  /** With `collect`: how far above the baseline it was after full collections (MiB; see below). */
  afterCollection: number | null;
}

/**
 * Opens `connections` unread streams naming `ids`, holds them `holdMs` (sampling the web RSS), closes
 * them and waits up to `settleMs` for the RSS to come back within `tolerance` MiB of the baseline.
 */
export async function measureUnreadReplays(
  app: RunningApp,
  client: ApiClient,
  ids: string[],
  options: {
    connections: number;
    /** Streams of the warm-up round (default: `connections`, the probe itself once). */
    warmConnections?: number;
    holdMs?: number;
    settleMs?: number;
    tolerance?: number;
    collect?: boolean;
  },
): Promise<ReplayMemoryFigures> {
  const { connections, warmConnections = connections, holdMs = 5_000, settleMs = 10_000, tolerance = 25 } = options;
  const pid = app.pids().web ?? 0;
  const cursors = encodeURIComponent(ids.map((id) => `${id}:1:0`).join(","));
  const path = `/api/chat/stream?cursors=${cursors}`;
  // A first round warms the process so the baseline is a settled one: what the probe costs once
  // (its code compiled and optimised, pools, the heap V8 grows to) is not what a connection holds.
  const warm = await Promise.all(Array.from({ length: warmConnections }, () => openUnread(app, client.cookie, path)));
  await sleep(3_000);
  for (const socket of warm) socket.destroy();
  await sleep(2_000);
  // With `collect`, the baseline is taken after a full collection too: both figures count what is live.
  if (options.collect) await collect(pid);
  const baseline = rssOf(pid);
  const sockets = await Promise.all(Array.from({ length: connections }, () => openUnread(app, client.cookie, path)));
  let peak = baseline;
  for (let waited = 0; waited < holdMs; waited += 250) {
    await sleep(250);
    peak = Math.max(peak, rssOf(pid));
  }
  for (const socket of sockets) socket.destroy();
  const closedAt = Date.now();
  let after = rssOf(pid);
  let settledIn: number | null = null;
  while (Date.now() - closedAt < settleMs) {
    await sleep(500);
    after = rssOf(pid);
    if (after - baseline <= tolerance * MiB) {
      settledIn = (Date.now() - closedAt) / 1000;
      break;
    }
  }
  // With `collect`: full collections, a second apart, until the RSS is within `tolerance` of the
  // baseline or 20 s have passed (V8 and malloc give pages back to the system a little later).
  let collected: number | null = null;
  for (let tries = 0; options.collect && tries < 20; tries++) {
    await collect(pid);
    collected = rssOf(pid) - baseline;
    if (collected <= tolerance * MiB) break;
  }
  const mib = (bytes: number) => Math.round(bytes / MiB);
  return {
    baseline: mib(baseline),
    peak: mib(peak - baseline),
    after: mib(after - baseline),
    settledIn,
    afterCollection: collected === null ? null : mib(collected),
  };
}
