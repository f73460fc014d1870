import path from "node:path";
import { z } from "zod";

// Every variable the web app and the worker read, parsed once. An empty string counts as unset,
// so `FOO=` in a .env file never turns into a surprising value.
const emptyIsUnset = (value: unknown) => (value === "" ? undefined : value);
const optionalString = z.preprocess(emptyIsUnset, z.string().optional());
const intWithDefault = (fallback: number, min = 0) =>
  z.preprocess(emptyIsUnset, z.coerce.number().int().min(min).default(fallback));

const envSchema = z.object({
  NODE_ENV: z.preprocess(emptyIsUnset, z.enum(["development", "production", "test"]).default("development")),
  PORT: intWithDefault(3000, 1),
  // The standalone worker's HTTP port (/healthz, /metrics, /admin/queues); unset = PORT when that
  // is set (Railway sets it), else no HTTP server.
  WORKER_HTTP_PORT: z.preprocess(emptyIsUnset, z.coerce.number().int().min(1).max(65_535).optional()),
  DATA_DIR: z.preprocess(emptyIsUnset, z.string().default(".data")),
  REDIS_URL: z.preprocess(emptyIsUnset, z.url({ protocol: /^rediss?$/ }).optional()),
  // A Redis Cluster instead of one Redis: some of its nodes as host:port, comma-separated (the
  // client finds the rest). Set this or REDIS_URL, not both.
  REDIS_CLUSTER_NODES: z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((node) => node.trim())
            .filter(Boolean)
        : value,
    z
      .array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, "cluster nodes are host:port, separated by commas"))
      .min(1)
      .optional(),
  ),
  // Upstash's REST API (the Vercel marketplace's integration names them KV_REST_API_*): when set, the
  // web app's Redis commands go over HTTP; the queue and the live subscription stay on REDIS_URL.
  UPSTASH_REDIS_REST_URL: z.preprocess(emptyIsUnset, z.url({ protocol: /^https?$/ }).optional()),
  UPSTASH_REDIS_REST_TOKEN: optionalString,
  KV_REST_API_URL: z.preprocess(emptyIsUnset, z.url({ protocol: /^https?$/ }).optional()),
  KV_REST_API_TOKEN: optionalString,
  DATABASE_URL: z.preprocess(emptyIsUnset, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: z.preprocess(emptyIsUnset, z.url().optional()),
  ANTHROPIC_MODEL: z.preprocess(emptyIsUnset, z.string().default("claude-sonnet-4-5")),
  // Comma-separated model ids, the first the default; unset = ANTHROPIC_MODEL alone.
  ANTHROPIC_MODELS: z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((id) => id.trim())
            .filter(Boolean)
        : value,
    z.array(z.string().regex(/^\S+$/, "model ids are separated by commas and contain no spaces")).optional(),
  ),
  LLM_PROVIDER: z.preprocess(emptyIsUnset, z.enum(["mock", "anthropic"]).optional()),
  AUTH_SECRET: optionalString,
  AUTH_GUEST: z.preprocess(emptyIsUnset, z.enum(["on", "off"]).default("on")),
  // A session's life (guests' and accounts'): every use of the API more than a day (or a quarter
  // of the life, when that is less) after its cookie was issued renews it for this long again.
  AUTH_SESSION_MAX_AGE_SECONDS: intWithDefault(30 * 24 * 3600, 4),
  // Sign-in providers, each on when its variables are set (lib/auth/providers.ts).
  AUTH_GITHUB_ID: optionalString,
  AUTH_GITHUB_SECRET: optionalString,
  AUTH_GOOGLE_ID: optionalString,
  AUTH_GOOGLE_SECRET: optionalString,
  AUTH_OIDC_ISSUER: z.preprocess(emptyIsUnset, z.url({ protocol: /^https?$/ }).optional()),
  AUTH_OIDC_ID: optionalString,
  AUTH_OIDC_SECRET: optionalString,
  // The OpenID issuer's name on the sign-in button.
  AUTH_OIDC_NAME: z.preprocess(emptyIsUnset, z.string().default("OpenID")),
  METRICS_TOKEN: optionalString,
  MAX_MESSAGE_CHARS: intWithDefault(32_000, 1),
  RATE_LIMIT_SENDS_PER_MINUTE: intWithDefault(30, 1),
  // One client address that makes many users: its sends of all of them together, per minute.
  RATE_LIMIT_SENDS_PER_ADDRESS_PER_MINUTE: intWithDefault(120, 1),
  GUEST_SIGNUPS_PER_HOUR: intWithDefault(20, 1),
  GUEST_TTL_DAYS: intWithDefault(30, 1),
  GUEST_SWEEP_INTERVAL_MS: intWithDefault(3_600_000, 100),
  // The client address is the first X-Forwarded-For hop only behind a proxy that sets it (Vercel).
  TRUST_PROXY: z.preprocess(
    (value) => (typeof value === "string" ? value.trim().toLowerCase() : value),
    z
      .enum(["", "0", "1", "true", "false", "on", "off", "yes", "no"])
      .default("")
      .transform((value) => ["1", "true", "on", "yes"].includes(value)),
  ),
  MAX_RUNNING_REPLIES_PER_USER: intWithDefault(10, 1),
  MAX_SSE_SECONDS: intWithDefault(270, 1),
  MAX_SSE_PER_USER: intWithDefault(8, 1),
  SSE_HEARTBEAT_MS: intWithDefault(15_000, 100),
  BULLMQ_PREFIX: z.preprocess(
    emptyIsUnset,
    z
      .string()
      .regex(/^[\w.-]+$/)
      .default("bull"),
  ),
  WORKER_CONCURRENCY: intWithDefault(50, 1),
  MAX_ATTEMPTS: intWithDefault(4, 1),
  RETRY_BACKOFF_MS: intWithDefault(1_000, 0),
  FLUSH_INTERVAL_MS: intWithDefault(50, 1),
  FLUSH_MAX_CHARS: intWithDefault(512, 1),
  STREAM_TTL_SECONDS: intWithDefault(3_600, 1),
  WORKER_LOCK_MS: intWithDefault(2_000, 1_000),
  STUCK_AFTER_MS: intWithDefault(15_000, 1_000),
  SWEEP_INTERVAL_MS: intWithDefault(10_000, 100),
  CHECKPOINT_MS: intWithDefault(3_000, 100),
  STORE_CHECK_MS: intWithDefault(2_000, 100),
  SHUTDOWN_GRACE_MS: intWithDefault(10_000, 0),
  // Outages answer as outages: a statement waits at most this long (0 = no limit), then 503.
  DB_STATEMENT_TIMEOUT_MS: intWithDefault(5_000, 0),
  DB_LOCK_TIMEOUT_MS: intWithDefault(3_000, 0),
  REDIS_COMMAND_TIMEOUT_MS: intWithDefault(3_000, 100),
  // Traces by OTLP/HTTP (JSON) to this collector's /v1/traces; unset = no tracing, no SDK loaded.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyIsUnset, z.url({ protocol: /^https?$/ }).optional()),
  // The traces' service.name; unset = backchannel-web for the web app, backchannel-worker for the worker.
  OTEL_SERVICE_NAME: optionalString,
  // A statement slower than this is logged at warn, by its name and duration (lib/db/slow-queries.ts).
  SLOW_QUERY_MS: intWithDefault(100, 0),
  LOG_LEVEL: z.preprocess(emptyIsUnset, z.enum(["debug", "info", "warn", "error", "silent"]).default("info")),
});

/** Every variable this app reads (the README's table documents each). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

export type Env = z.infer<typeof envSchema> & {
  mode: "embedded" | "redis";
  /**
   * Where Redis is, as one string (the key of lib/redis/connections.ts): REDIS_URL, or
   * "cluster:host:port,host:port" from REDIS_CLUSTER_NODES; null in the embedded mode.
   */
  redis: string | null;
  llmProvider: "mock" | "anthropic";
  /** ANTHROPIC_MODELS, or [ANTHROPIC_MODEL] when it is unset: never empty, the default first. */
  anthropicModels: string[];
  dataDir: string;
  /** The standalone worker's HTTP port: WORKER_HTTP_PORT, else PORT when it is set; null = none. */
  workerHttpPort: number | null;
  /** Upstash's REST endpoint for the web app's Redis commands; null = they go over REDIS_URL. */
  redisRest: { url: string; token: string } | null;
};

/** UPSTASH_REDIS_REST_URL and _TOKEN, else the marketplace's KV_REST_API_URL and _TOKEN; both or neither. */
function restOf(values: z.infer<typeof envSchema>): Env["redisRest"] {
  const pairs = [
    [
      "UPSTASH_REDIS_REST_URL",
      values.UPSTASH_REDIS_REST_URL,
      "UPSTASH_REDIS_REST_TOKEN",
      values.UPSTASH_REDIS_REST_TOKEN,
    ],
    ["KV_REST_API_URL", values.KV_REST_API_URL, "KV_REST_API_TOKEN", values.KV_REST_API_TOKEN],
  ] as const;
  for (const [urlName, url, tokenName, token] of pairs) {
    if (!url && !token) continue;
    if (!url || !token) {
      throw new Error(`Invalid environment: ${url ? urlName : tokenName} is set without ${url ? tokenName : urlName}.`);
    }
    if (!values.REDIS_URL) {
      throw new Error(
        `Invalid environment: ${urlName} carries the web app's Redis commands, but the queue and the live ` +
          "subscription need a TCP connection too: set REDIS_URL (Upstash shows it as the rediss:// endpoint).",
      );
    }
    return { url, token };
  }
  return null;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
}

export function parseEnv(source: NodeJS.ProcessEnv): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`Invalid environment: ${describeIssues(parsed.error)}`);
  }
  const values = parsed.data;
  if (values.REDIS_URL && values.REDIS_CLUSTER_NODES?.length) {
    throw new Error("Invalid environment: set REDIS_URL or REDIS_CLUSTER_NODES, not both.");
  }
  const redis =
    values.REDIS_URL ?? (values.REDIS_CLUSTER_NODES?.length ? `cluster:${values.REDIS_CLUSTER_NODES.join(",")}` : null);
  const llmProvider = values.LLM_PROVIDER ?? (values.ANTHROPIC_API_KEY ? "anthropic" : "mock");
  if (llmProvider === "anthropic" && !values.ANTHROPIC_API_KEY) {
    throw new Error("Invalid environment: LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY.");
  }
  return {
    ...values,
    mode: redis ? "redis" : "embedded",
    redis,
    llmProvider,
    anthropicModels: values.ANTHROPIC_MODELS?.length ? [...new Set(values.ANTHROPIC_MODELS)] : [values.ANTHROPIC_MODEL],
    dataDir: path.resolve(values.DATA_DIR),
    workerHttpPort: values.WORKER_HTTP_PORT ?? (emptyIsUnset(source.PORT) === undefined ? null : values.PORT),
    redisRest: restOf(values),
  };
}

const cache = globalThis as unknown as { __backchannelEnv?: Env };

/** The parsed environment of this process. Throws, naming the variable, when it is invalid. */
export function env(): Env {
  cache.__backchannelEnv ??= parseEnv(process.env);
  return cache.__backchannelEnv;
}

/**
 * The `maxDuration` (seconds) of the routes that hold a connection open, the SSE streams: their
 * `config` exports and `vercel.json` say the same (tests/ops/vercel.test.ts checks it). Vercel ends
 * the function after it, so MAX_SSE_SECONDS stays SSE_MARGIN_SECONDS below it.
 */
export const STREAM_MAX_DURATION_SECONDS = 300;
/** Between the all-sessions stream's `reconnect` and the end of its function. */
export const SSE_MARGIN_SECONDS = 30;

/**
 * Why this process cannot serve on Vercel (process.env.VERCEL is set), as one sentence; null when
 * it can. A serverless function has no lasting disk, memory or process: the embedded mode (PGlite,
 * in-memory queue and store, the worker inside the web) would lose its data and replies there.
 */
export function vercelStartProblem(config: Env): string | null {
  const missing = [
    !config.redis && "REDIS_URL",
    !config.DATABASE_URL && "DATABASE_URL",
    !config.AUTH_SECRET && "AUTH_SECRET",
  ].filter(Boolean);
  if (missing.length) {
    return (
      `Backchannel does not run in the embedded mode on Vercel: set REDIS_URL, DATABASE_URL, AUTH_SECRET ` +
      `and ANTHROPIC_API_KEY in the Vercel project's environment variables and run the worker ` +
      `(npm run worker) elsewhere with the same ones (missing: ${missing.join(", ")}).`
    );
  }
  const longest = STREAM_MAX_DURATION_SECONDS - SSE_MARGIN_SECONDS;
  if (config.MAX_SSE_SECONDS > longest) {
    return (
      `MAX_SSE_SECONDS is ${config.MAX_SSE_SECONDS}, but on Vercel a stream's function ends after ` +
      `${STREAM_MAX_DURATION_SECONDS} s: set it to ${longest} or less.`
    );
  }
  return null;
}
