// The load side of `npm run bench`: every scenario, against Backchannel (its public HTTP/SSE API,
// as guests) or against a peer server in bench/peers (the floor, or resumable-stream). All of them
// are read through bench/http.ts, so the client's own costs are the same for every system.

import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { openSse, request, type SseReader, wallAt } from "./http";

export type SystemKind = "app" | "floor" | "resumable";
export interface System {
  kind: SystemKind;
  baseUrl: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items` with at most `limit` at once. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------- Backchannel's API, as a guest

export interface Guest {
  cookie: string;
  userId: string;
}

export async function guest(baseUrl: string): Promise<Guest> {
  const response = await request(`${baseUrl}/api/auth/guest`, { method: "POST" });
  if (response.status !== 200) throw new Error(`guest sign-in: ${response.status}`);
  const setCookie = response.headers["set-cookie"]?.[0] ?? "";
  const body = JSON.parse(response.body) as { user: { id: string } };
  return { cookie: setCookie.split(";")[0] ?? "", userId: body.user.id };
}

export async function guests(baseUrl: string, count: number): Promise<Guest[]> {
  return pool(Array.from({ length: count }), 50, () => guest(baseUrl));
}

interface Sent {
  sessionId: string;
  assistantMessageId: string;
  statusUrl: string;
}

export async function sendMessage(baseUrl: string, user: Guest, content: string): Promise<Sent> {
  const response = await request(`${baseUrl}/api/chat/messages`, {
    method: "POST",
    headers: { cookie: user.cookie },
    body: { content, clientMessageId: randomUUID() },
  });
  if (response.status !== 202) throw new Error(`send: ${response.status} ${response.body}`);
  return JSON.parse(response.body) as Sent;
}

const mockPrompt = (tokens: number, tps: number, label: string) => `/mock tokens=${tokens} tps=${tps} ttft=0\n${label}`;

// ---------------------------------------------------------------- scenario 1: send → 202

/**
 * `senders` concurrent senders, `perSender` sends each, one after another: ms per send. `window`
 * hears when the first send starts and the last one is answered (the sign-ins before and the
 * status polls after fall outside it).
 */
export async function sendLatency(
  system: System,
  senders: number,
  perSender: number,
  window: { started?: () => void; answered?: () => void } = {},
): Promise<number[]> {
  const users = system.kind === "app" ? await guests(system.baseUrl, senders) : [];
  const samples: number[] = [];
  const sent: Array<{ user: Guest; statusUrl: string }> = [];
  window.started?.();
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      for (let i = 0; i < perSender; i++) {
        const startedAt = performance.now();
        if (system.kind === "app") {
          const user = users[s];
          if (!user) throw new Error("no guest");
          const turn = await sendMessage(system.baseUrl, user, mockPrompt(1, 0, "ping"));
          sent.push({ user, statusUrl: turn.statusUrl });
        } else {
          const response = await request(`${system.baseUrl}/replies`, { method: "POST", body: { tokens: 1, tps: 0 } });
          if (response.status !== 202) throw new Error(`peer POST: ${response.status}`);
        }
        samples.push(performance.now() - startedAt);
      }
    }),
  );
  window.answered?.();
  // Not measured: the replies these sends queued end before the next scenario, which would
  // otherwise measure the worker's backlog.
  await pool(sent, 20, ({ user, statusUrl }) => untilEnded(system.baseUrl, user, statusUrl));
  return samples;
}

async function untilEnded(baseUrl: string, user: Guest, statusUrl: string) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const response = await request(`${baseUrl}${statusUrl}`, { headers: { cookie: user.cookie } });
    const { status } = JSON.parse(response.body) as { status?: string };
    if (status !== "queued" && status !== "generating") return;
    await sleep(100);
  }
  throw new Error(`${statusUrl} still running after 2 minutes`);
}

// ---------------------------------------------------------------- scenario 2: send → first chunk

/** One reader already connected; each send, one at a time: ms from send to its first chunk. */
export async function firstChunkLatency(system: System, samples: number): Promise<number[]> {
  const firstSeen = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  const user = system.kind === "app" ? await guest(system.baseUrl) : null;
  const url = system.kind === "app" ? `${system.baseUrl}/api/chat/stream` : `${system.baseUrl}/events`;
  const reader = openSse(url, user ? { cookie: user.cookie } : {}, (frame, at) => {
    if (frame.event !== "chunk") return undefined;
    const data = JSON.parse(frame.data) as { messageId?: string; id?: string };
    const key = data.messageId ?? data.id ?? "";
    if (firstSeen.has(key)) return undefined;
    firstSeen.set(key, at);
    waiters.get(key)?.(at);
    return undefined;
  });
  await reader.opened;
  const results: number[] = [];
  for (let i = 0; i < samples; i++) {
    const startedAt = performance.now();
    let key: string;
    if (system.kind === "app" && user) {
      key = (await sendMessage(system.baseUrl, user, mockPrompt(20, 0, `first chunk ${i}`))).assistantMessageId;
    } else {
      const response = await request(`${system.baseUrl}/replies`, { method: "POST", body: { tokens: 20, tps: 0 } });
      key = (JSON.parse(response.body) as { id: string }).id;
    }
    const at = firstSeen.get(key) ?? (await new Promise<number>((resolve) => waiters.set(key, resolve)));
    results.push(at - startedAt);
    await sleep(20);
  }
  reader.close();
  return results;
}

// ---------------------------------------------------------------- scenario 3: delivery

export interface DeliveryResult {
  /** Writer's `ts` → received, ms, for chunks received while all replies were streaming. */
  samples: number[];
  /** The most replies seen streaming at once (first chunk received → end received). */
  peak: number;
  /** Every reader got every chunk once, in order, and the end. */
  complete: boolean;
  problems: string[];
}

interface ReplyTrack {
  firstAt: number;
  endAt: number;
}

/**
 * `replies` replies of `tokens` tokens at `tps`, each read by `readersPerReply` SSE readers.
 * Backchannel: readers are guests' all-sessions streams, open before the send (as a browser's).
 * Peers: readers connect right after the reply is created. Only chunks written after a reader's
 * stream was open count, so a replay never counts as delivery.
 */
export async function delivery(
  system: System,
  options: {
    replies: number;
    readersPerReply: number;
    tokens: number;
    tps: number;
    onRunning?: () => void;
    /** The first reply has ended at its reader: until now, every reply was streaming. */
    onFirstEnd?: () => void;
  },
): Promise<DeliveryResult> {
  const { replies, readersPerReply, tokens, tps } = options;
  // Two flat number arrays, not an array of pairs: a million small arrays would make this process
  // collect garbage while it reads, and its pauses would count as delivery latency.
  const receivedAt: number[] = [];
  const latencies: number[] = [];
  const problems: string[] = [];
  const tracks: ReplyTrack[] = Array.from({ length: replies }, () => ({ firstAt: 0, endAt: 0 }));
  const readers: SseReader[] = [];
  const ends: Promise<void>[] = [];
  let resets = 0;
  let running = false;
  let anyEnded = false;

  const follow = (url: string, headers: Record<string, string>, matches: (data: Record<string, unknown>) => number) => {
    let last = 0;
    let openedWall = Number.POSITIVE_INFINITY;
    let finished: () => void = () => {};
    ends.push(
      new Promise<void>((resolve) => {
        finished = resolve;
      }),
    );
    let lastSeqExpected: number | null = null;
    const trace: string[] = [];
    const reader = openSse(url, headers, (frame, at) => {
      if (frame.event === "reset") {
        // A new attempt (a retried job): the text starts over. Legal, but worth knowing about.
        resets++;
        last = 0;
        return undefined;
      }
      if (frame.event !== "chunk" && frame.event !== "done") return undefined;
      const data = JSON.parse(frame.data) as Record<string, unknown>;
      const index = matches(data);
      if (index < 0) return undefined;
      const track = tracks[index];
      if (!track) return undefined;
      if (frame.event === "done") {
        lastSeqExpected = Number(data.seq);
        if (lastSeqExpected !== last) problems.push(`ended at ${last} of ${lastSeqExpected}`);
        track.endAt = Math.max(track.endAt, at);
        if (running && !anyEnded) {
          anyEnded = true;
          options.onFirstEnd?.();
        }
        finished();
        return true;
      }
      const seq = Number(data.seq);
      if (process.env.BENCH_DEBUG) trace.push(`${frame.id} ${frame.data.slice(0, 120)}`);
      if (seq !== last + 1) {
        problems.push(`gap or duplicate: ${last} → ${seq}`);
        if (process.env.BENCH_DEBUG) console.error(trace.join("\n"));
      }
      last = seq;
      if (track.firstAt === 0 || at < track.firstAt) track.firstAt = at;
      const ts = Number(data.ts);
      if (ts >= openedWall) {
        receivedAt.push(at);
        latencies.push(wallAt(at) - ts);
      }
      return undefined;
    });
    reader.opened.then((at) => {
      openedWall = wallAt(at);
    });
    readers.push(reader);
    reader.ended.then(() => finished());
    return reader;
  };

  if (system.kind === "app") {
    // Fresh guests: each one's stream carries its own reply only.
    const users = await guests(system.baseUrl, readersPerReply > 1 ? 1 : replies);
    for (const [u, user] of users.entries()) {
      const count = Math.max(readersPerReply, 1);
      for (let r = 0; r < count; r++) follow(`${system.baseUrl}/api/chat/stream`, { cookie: user.cookie }, () => u);
      if (u % 100 === 99) await Promise.all(readers.map((reader) => reader.opened));
    }
    await Promise.all(readers.map((reader) => reader.opened));
    await pool(Array.from({ length: replies }), 100, async (_, i) => {
      const user = readersPerReply > 1 ? users[0] : users[i];
      if (!user) throw new Error("no guest");
      await sendMessage(system.baseUrl, user, mockPrompt(tokens, tps, `delivery ${i} ${randomUUID()}`));
    });
  } else {
    const ids = await pool(Array.from({ length: replies }), 100, async () => {
      const response = await request(`${system.baseUrl}/replies`, { method: "POST", body: { tokens, tps } });
      if (response.status !== 202) throw new Error(`peer POST: ${response.status}`);
      const { id } = JSON.parse(response.body) as { id: string };
      return id;
    });
    for (const [i, id] of ids.entries()) {
      for (let r = 0; r < readersPerReply; r++)
        follow(`${system.baseUrl}/replies/${id}/stream?after=0&chars=0`, {}, () => i);
    }
    await Promise.all(readers.map((reader) => reader.opened));
  }
  options.onRunning?.();
  running = true;
  await Promise.all(ends);
  for (const reader of readers) reader.close();

  if (tracks.some((track) => track.endAt === 0)) problems.push("a reply never ended");
  // The window when every reply was streaming; if sends were too slow for that, the busiest moment.
  const windowStart = Math.max(...tracks.map((t) => t.firstAt));
  const windowEnd = Math.min(...tracks.map((t) => t.endAt));
  let peak = replies;
  let samples = latencies.filter((_, i) => (receivedAt[i] ?? 0) >= windowStart && (receivedAt[i] ?? 0) <= windowEnd);
  if (windowStart >= windowEnd) {
    peak = maxOverlap(tracks);
    samples = latencies;
  }
  if (resets > 0) problems.push(`${resets} resets (retried attempts)`);
  return { samples, peak, complete: problems.length === 0, problems: problems.slice(0, 5) };
}

function maxOverlap(tracks: ReplyTrack[]): number {
  const points = tracks.flatMap(
    (t): Array<[number, number]> => [
      [t.firstAt, 1],
      [t.endAt, -1],
    ],
  );
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let best = 0;
  for (const [, step] of points) {
    current += step;
    best = Math.max(best, current);
  }
  return best;
}

// ---------------------------------------------------------------- scenario 4: resume

export interface ResumeResult {
  /** Reconnect → the last chunk written before the reconnect received, ms. */
  samples: number[];
  /** Chunks the reader had missed, per sample. */
  missedChunks: number[];
  complete: boolean;
  problems: string[];
}

/**
 * `count` replies of `tokens` tokens at `tps`, each with one reader that leaves halfway through,
 * stays away `awayMs`, and comes back with its cursor: Backchannel's Last-Event-ID on the
 * one-session stream, the floor's `after=<seq>`, resumable-stream's character count.
 */
export async function resume(
  system: System,
  options: { count: number; tokens: number; tps: number; awayMs: number },
): Promise<ResumeResult> {
  const { count, tokens, tps, awayMs } = options;
  const staggerMs = 150;
  const problems: string[] = [];
  const halfwayMs = ((tokens / 2) * 1000) / tps;
  const users = system.kind === "app" ? await guests(system.baseUrl, count) : [];
  const runs = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      // Staggered: each resume is one person's reconnect, not a herd arriving in the same ms.
      await sleep(i * staggerMs);
      let last = 0;
      let lastId: string | undefined;
      let sessionId = "";
      let key = "";
      const onChunk = (data: Record<string, unknown>) => {
        const seq = Number(data.seq);
        if (seq !== last + 1) problems.push(`gap or duplicate: ${last} → ${seq}`);
        last = seq;
      };
      // First connection: read until halfway, then drop it.
      let firstAt = 0;
      let url: string;
      let headers: Record<string, string> = {};
      const user = users[i];
      if (system.kind === "app" && user) {
        headers = { cookie: user.cookie };
        url = `${system.baseUrl}/api/chat/stream`;
      } else {
        const response = await request(`${system.baseUrl}/replies`, { method: "POST", body: { tokens, tps } });
        key = (JSON.parse(response.body) as { id: string }).id;
        url = `${system.baseUrl}/replies/${key}/stream?after=0&chars=0`;
      }
      const first = openSse(url, headers, (frame, at) => {
        if (frame.event !== "chunk") return undefined;
        // A fresh guest's stream carries this reply only.
        const data = JSON.parse(frame.data) as Record<string, unknown>;
        onChunk(data);
        lastId = frame.id;
        if (firstAt === 0) firstAt = at;
        return at - firstAt >= halfwayMs;
      });
      await first.opened;
      if (system.kind === "app" && user) {
        const sent = await sendMessage(system.baseUrl, user, mockPrompt(tokens, tps, `resume ${i} ${randomUUID()}`));
        sessionId = sent.sessionId;
      }
      await first.ended;
      const chars = first.chars;
      await sleep(awayMs);

      // Second connection: from the cursor.
      const reconnectAt = performance.now();
      const reconnectWall = wallAt(reconnectAt);
      let lastMissedAt = 0;
      let missed = 0;
      let done = false;
      let resolveMeasured: () => void = () => {};
      const measured = new Promise<void>((resolve) => {
        resolveMeasured = resolve;
      });
      let resumeUrl: string;
      let resumeHeaders: Record<string, string> = {};
      if (system.kind === "app" && user) {
        resumeUrl = `${system.baseUrl}/api/chat/stream/${sessionId}`;
        resumeHeaders = { cookie: user.cookie, "last-event-id": lastId ?? "" };
      } else {
        resumeUrl = `${system.baseUrl}/replies/${key}/stream?after=${last}&chars=${chars}`;
      }
      const second = openSse(resumeUrl, resumeHeaders, (frame, at) => {
        if (frame.event === "done") {
          done = true;
          resolveMeasured();
          return true;
        }
        if (frame.event !== "chunk") return undefined;
        const data = JSON.parse(frame.data) as Record<string, unknown>;
        onChunk(data);
        if (Number(data.ts) <= reconnectWall) {
          lastMissedAt = at;
          missed++;
        } else resolveMeasured();
        return undefined;
      });
      second.opened.catch((error: unknown) => {
        problems.push(String(error));
        resolveMeasured();
      });
      await measured;
      await second.ended;
      if (!done) problems.push("resumed stream ended without its end");
      return { latency: lastMissedAt - reconnectAt, missed };
    }),
  );
  const valid = runs.filter((run) => run.missed > 0);
  if (valid.length < runs.length) problems.push(`${runs.length - valid.length} resumes had missed nothing`);
  return {
    samples: valid.map((run) => run.latency),
    missedChunks: valid.map((run) => run.missed),
    complete: problems.length === 0,
    problems: problems.slice(0, 5),
  };
}

// ---------------------------------------------------------------- process measurements

// ---------------------------------------------------------------- Redis command counts

/**
 * Commands the Redis server has run so far, by name, from INFO commandstats (the commands inside a
 * Lua script count one by one, as the server runs them); the INFO calls that read them do not count.
 */
export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm))
    if (match[1] !== "info") calls.set(match[1] ?? "", Number(match[2]));
  return calls;
}

/** Commands the Redis server has run so far (see commandStats). */
export async function commandCount(redis: Redis): Promise<number> {
  let total = 0;
  for (const calls of (await commandStats(redis)).values()) total += calls;
  return total;
}

/** Resident set size of a process, MiB (Linux). */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return Math.round(kb / 1024);
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system) a process has used so far (Linux). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export interface GcStats {
  /** Collections so far, by kind (major, minor, incremental, weakcb). */
  count: Record<string, number>;
  /** Seconds spent in them so far, by kind. */
  seconds: Record<string, number>;
}

/** The app's garbage collections so far, from its Prometheus metrics (prom-client's default ones). */
export async function gcStats(baseUrl: string): Promise<GcStats> {
  const response = await request(`${baseUrl}/api/metrics`);
  const stats: GcStats = { count: {}, seconds: {} };
  for (const match of response.body.matchAll(
    /^backchannel_nodejs_gc_duration_seconds_(count|sum)\{kind="(\w+)"\} ([\d.e+-]+)$/gm,
  )) {
    const [, field, kind = "", value] = match;
    (field === "count" ? stats.count : stats.seconds)[kind] = Number(value);
  }
  return stats;
}

/** Collections between two readings: full and young, count and ms. */
export function gcDelta(before: GcStats, after: GcStats) {
  const count = (kind: string) => (after.count[kind] ?? 0) - (before.count[kind] ?? 0);
  const ms = (kind: string) => Math.round(((after.seconds[kind] ?? 0) - (before.seconds[kind] ?? 0)) * 1000);
  return { major: count("major"), majorMs: ms("major"), minor: count("minor"), minorMs: ms("minor") };
}

/** Pids of this machine's processes whose name (/proc/<pid>/comm) is `name`, e.g. Postgres's. */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The Redis server's pid when it runs on this machine (so its CPU can be read from /proc). */
export async function localRedisPid(client: Redis, url: string): Promise<number | undefined> {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) return undefined;
  const pid = Number(/^process_id:(\d+)/m.exec(await client.info("server"))?.[1]);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

/** Samples the RSS of some processes every 250 ms until stopped: the largest seen, and CPU use. */
export function rssSampler(pids: Record<string, number | undefined>) {
  const peak: Record<string, number> = {};
  let cpuStart = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  let startedAt = performance.now();
  /** Counts CPU from now on (peak RSS keeps counting from the start). */
  const restartCpu = () => {
    cpuStart = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
    startedAt = performance.now();
  };
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const value = rssMiB(pid);
      if (!Number.isNaN(value)) peak[name] = Math.max(peak[name] ?? 0, value);
    }
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    restartCpu,
    stop: () => {
      clearInterval(timer);
      sample();
      const seconds = (performance.now() - startedAt) / 1000;
      /** Share of one core each process used over the run, %. */
      const cpu = Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => [
          name,
          Math.round(((cpuSeconds(pid) - (cpuStart[name] ?? 0)) / seconds) * 100),
        ]),
      );
      return { rss: peak, cpu };
    },
  };
}
