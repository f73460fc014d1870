// The faults, each at its moment of the run, written to a timeline as they happen: a worker and a
// web process SIGKILLed and restarted, Redis shut down without saving and started again empty,
// the messages table locked for 10 s, and every reader connection cut at once.
import type { Cluster } from "./cluster";
import type { FaultTimes, Random } from "./options";
import { between, sleep } from "./options";
import type { AnyReader } from "./readers";

export interface TimelineEntry {
  /** ms since the first send. */
  at: number;
  what: string;
}

/** The moments the checks measure from (ms since the epoch), and what was known at the Redis loss. */
export interface FaultRecord {
  timeline: TimelineEntry[];
  injected: Record<string, number>;
  workerKilledAt: number | null;
  redisDownAt: number | null;
  redisUpAt: number | null;
  /** Replies whose kept text the app still knew while Redis was away (database checkpoint or status). */
  knownAtRedisLoss: Set<string>;
  lock: { lockedAt: number; releasedAt: number } | null;
}

export interface FaultContext {
  cluster: Cluster;
  readers: () => AnyReader[];
  random: Random;
  startedAt: number;
  /** Asks the app, while Redis is away, which running replies' text it still has. */
  probeKnownText: () => Promise<Set<string>>;
}

export const LOCK_MS = 10_000;

export async function injectFaults(times: FaultTimes, context: FaultContext, record: FaultRecord): Promise<void> {
  const { cluster, startedAt } = context;
  // Each fault's line says how many replies were mid-stream when it struck.
  const note = (what: string, withStreaming = false) => {
    if (withStreaming) what += ` (${streamingNow(context.readers())} replies streaming)`;
    record.timeline.push({ at: Date.now() - startedAt, what });
    console.log(`  ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s  ${what}`);
  };
  const count = (fault: string) => {
    record.injected[fault] = (record.injected[fault] ?? 0) + 1;
  };
  const at = (offset: number) => sleep(Math.max(0, startedAt + offset - Date.now()));

  const workerKill = (async () => {
    await at(times.workerKill);
    const index = between(context.random, 0, 1);
    record.workerKilledAt = Date.now();
    await cluster.killWorker(index);
    count("worker SIGKILL");
    note(`SIGKILL worker-${index}`, true);
    await sleep(2_000);
    cluster.startWorker(index);
    note(`worker-${index} started again`);
  })();

  const webKill = (async () => {
    await at(times.webKill);
    const index = between(context.random, 0, 1);
    await cluster.killWeb(index);
    count("web SIGKILL");
    note(`SIGKILL ${cluster.webs[index]?.name}`, true);
    await sleep(2_000);
    await cluster.restartWeb(index);
    note(`${cluster.webs[index]?.name} started again and healthy`);
  })();

  const redisRestart = (async () => {
    await at(times.redisRestart);
    record.redisDownAt = Date.now();
    await cluster.stopRedisLosingData();
    count("redis restart (data lost)");
    note("redis-cli shutdown nosave", true);
    // What the app still knows of each running reply, asked before Redis comes back.
    const [checkpointed, answered] = await Promise.all([cluster.checkpointedReplies(), context.probeKnownText()]);
    for (const [id, kept] of checkpointed) if (kept > 0) record.knownAtRedisLoss.add(id);
    for (const id of answered) record.knownAtRedisLoss.add(id);
    note(`${record.knownAtRedisLoss.size} running replies with kept text in the database or the status endpoint`);
    await sleep(Math.max(0, record.redisDownAt + 3_000 - Date.now()));
    await cluster.restartRedis();
    record.redisUpAt = Date.now();
    note("redis-server started again (empty)");
  })();

  const postgresLock = (async () => {
    await at(times.postgresLock);
    note("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE (asked)", true);
    record.lock = await cluster.holdMessagesLock(LOCK_MS);
    count("postgres lock 10 s");
    note(`lock released after ${((record.lock.releasedAt - record.lock.lockedAt) / 1000).toFixed(1)} s held`);
  })();

  const cuts = times.cutBursts.map(async (offset) => {
    await at(offset);
    const cut = context.readers().filter((reader) => reader.cut()).length;
    count("reader cut burst");
    note(`cut ${cut} reader connections at once`, true);
  });

  await Promise.all([workerKill, webKill, redisRestart, postgresLock, ...cuts]);
}

/** Replies not ended that got a chunk in the last 1.5 s, at any reader. */
function streamingNow(readers: AnyReader[]): number {
  const since = Date.now() - 1_500;
  const ids = new Set<string>();
  for (const reader of readers) {
    for (const view of reader.views.values()) {
      if (!view.end && (view.chunks.at(-1)?.at ?? 0) >= since) ids.add(view.messageId);
    }
  }
  return ids.size;
}

export function emptyFaultRecord(): FaultRecord {
  return {
    timeline: [],
    injected: {},
    workerKilledAt: null,
    redisDownAt: null,
    redisUpAt: null,
    knownAtRedisLoss: new Set(),
    lock: null,
  };
}
