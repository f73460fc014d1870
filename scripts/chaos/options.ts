// The chaos run's settings: its size, when each fault strikes, the app's knobs, and the seeded
// randomness that makes a run repeatable (`--seed=N` gives the same plan and the same fault moments).
import { parseEnv } from "../../lib/env";

export interface RunOptions {
  short: boolean;
  /** On a three-master Redis Cluster: the Redis fault is one master restarting empty. */
  redisCluster: boolean;
  replies: number;
  guests: number;
  seed: number;
  /** Where the figures are written as JSON. */
  jsonPath: string | null;
  /** Sends are spread over [0, sendWindowMs] after the start. */
  sendWindowMs: number;
  /** Reply length in mock tokens, drawn from [min, max], paced at `tps`. */
  tokens: { min: number; max: number; tps: number };
  /** How long every reply may take to end once the last send was accepted. */
  settleMs: number;
  /** A reader connection is cut at random after a time drawn from [min, max]. */
  cutAfterMs: { min: number; max: number };
  faults: FaultTimes;
}

/** Milliseconds after the first send at which each fault starts. */
export interface FaultTimes {
  workerKill: number;
  webKill: number;
  redisRestart: number;
  postgresLock: number;
  /** Every reader connection is cut at once. */
  cutBursts: number[];
}

const FULL: Omit<RunOptions, "replies" | "seed" | "jsonPath" | "short" | "redisCluster"> = {
  guests: 6,
  // 60 replies of 8-15 s sent over 80 s: several stream at any moment, so each fault finds some mid-way.
  sendWindowMs: 80_000,
  tokens: { min: 250, max: 450, tps: 30 },
  settleMs: 150_000,
  cutAfterMs: { min: 2_000, max: 10_000 },
  faults: {
    workerKill: 14_000,
    webKill: 28_000,
    redisRestart: 44_000,
    postgresLock: 60_000,
    cutBursts: [21_000, 52_000, 76_000],
  },
};

const SHORT: typeof FULL = {
  guests: 4,
  sendWindowMs: 24_000,
  tokens: { min: 120, max: 240, tps: 30 },
  settleMs: 60_000,
  cutAfterMs: { min: 1_500, max: 6_000 },
  faults: {
    workerKill: 5_000,
    webKill: 11_000,
    redisRestart: 17_000,
    postgresLock: 24_000,
    cutBursts: [8_000, 21_000],
  },
};

export function parseOptions(argv: readonly string[]): RunOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[1])
      throw new Error(`unknown argument ${arg} (use --short, --redis-cluster, --replies=N, --seed=N, --json=PATH)`);
    flags.set(match[1], match[2] ?? "");
  }
  for (const name of flags.keys()) {
    if (!["short", "redis-cluster", "replies", "seed", "json"].includes(name))
      throw new Error(`unknown option --${name}`);
  }
  const short = flags.has("short");
  const replies = Number(flags.get("replies") ?? (short ? 20 : 60));
  const seed = Number(flags.get("seed") ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isInteger(replies) || replies < 1) throw new Error("--replies needs a whole number above 0");
  if (!Number.isInteger(seed)) throw new Error("--seed needs a whole number");
  const redisCluster = flags.has("redis-cluster");
  return { ...(short ? SHORT : FULL), short, redisCluster, replies, seed, jsonPath: flags.get("json") || null };
}

// The app's settings for the run: the app's own defaults (so the run tests the product as it ships)
// but for limits that would throttle the run's guests. A variable in the caller's environment wins
// and reaches the processes, e.g. STUCK_AFTER_MS=30000 npm run chaos.
const RUN_SETTINGS: Record<string, string> = {
  RATE_LIMIT_SENDS_PER_MINUTE: "1000",
  MAX_RUNNING_REPLIES_PER_USER: "100",
  LOG_LEVEL: "warn",
};
/** Printed with their values, defaults included: the settings that shape recovery. */
const SHOWN = ["WORKER_LOCK_MS", "STUCK_AFTER_MS", "SWEEP_INTERVAL_MS", "CHECKPOINT_MS", "STORE_CHECK_MS"];
const SHOWN_TOO = ["MAX_ATTEMPTS", "RETRY_BACKOFF_MS", "WORKER_CONCURRENCY", "FLUSH_INTERVAL_MS"];

/** The settings the run gives the processes (`set`), and the values in force for the printed ones. */
export function appKnobs(): { set: Record<string, string>; shown: Record<string, string> } {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(RUN_SETTINGS)) set[name] = process.env[name] || value;
  const defaults = parseEnv({ NODE_ENV: "production" }) as unknown as Record<string, unknown>;
  const shown: Record<string, string> = { ...set };
  for (const name of [...SHOWN, ...SHOWN_TOO]) {
    const value = process.env[name] || (defaults[name] === undefined ? undefined : String(defaults[name]));
    if (value !== undefined) shown[name] = value;
  }
  return { set, shown };
}

/** mulberry32: a small seeded PRNG, so a seed replays the same plan. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export type Random = ReturnType<typeof seededRandom>;

export const between = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The promise, or `fallback` after `ms`. Fetch's own abort is not enough here: a request caught by a
 * web process's SIGKILL was seen to stay pending after its signal fired.
 */
export function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
