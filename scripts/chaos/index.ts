// npm run chaos [-- --short] [--redis-cluster] [--replies=N] [--seed=N] [--json=PATH] — the Redis mode under faults
// (issue 11): two web processes and two workers on their own redis-server and Postgres database,
// guests sending long replies and readers resuming at random, while a worker and a web process are
// SIGKILLed, Redis restarts empty, the messages table is locked for 10 s and connections are cut.
// Then every reply is checked; the exit code is 1 on any lost, doubled or stuck reply or any breach
// of the stream contract, 2 when the run itself failed. Everything it started is stopped.
import { execFileSync } from "node:child_process";
import { Cluster, staleSinceBuild } from "./cluster";
import { cancelWhenStreaming, type Guest, planSessions, type SentReply, sendSession, signInGuests } from "./driver";
import { emptyFaultRecord, injectFaults } from "./faults";
import { appKnobs, parseOptions, seededRandom, within } from "./options";
import { type AnyReader, type RunState, SessionReader } from "./readers";
import { summarize } from "./summary";

const options = parseOptions(process.argv.slice(2));
const knobs = appKnobs();
const cluster = new Cluster(knobs.set, options.redisCluster);
const runStartedAt = Date.now();
let stopping: Promise<void> | null = null;
const stopAll = () => {
  stopping ??= cluster.stop();
  return stopping;
};
const exitAfterStop = (code: number) => void stopAll().finally(() => process.exit(code));
const interrupted = (signal: string, code: number) => {
  console.error(`chaos: ${signal}; stopping everything it started`);
  exitAfterStop(code);
};
process.on("SIGINT", () => interrupted("SIGINT", 130));
process.on("SIGTERM", () => interrupted("SIGTERM", 143));
// A rejection nobody awaited yet (a fault that failed while the sends still run) must not end the
// run with its processes left behind: they would hold their Postgres connections and ports.
process.on("unhandledRejection", (error) => {
  console.error("chaos: unhandled rejection; stopping everything it started:", error);
  exitAfterStop(2);
});
// The run is bounded whatever the app does: the full one well inside 10 minutes.
const watchdog = setTimeout(
  () => {
    console.error("chaos: the run took too long; stopping everything");
    exitAfterStop(2);
  },
  options.short ? 240_000 : 570_000,
);

function commit(): string {
  const run = (args: string[]) =>
    execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const dirty = run(["status", "--porcelain", "--", "lib", "app", "pages", "components", "workers"]);
    return `${run(["rev-parse", "--short", "HEAD"])}${dirty ? " + uncommitted app changes" : ""}`;
  } catch {
    return "unknown";
  }
}

/** While Redis is away: the running replies whose text the status endpoint still gives. */
async function knownByStatus(replies: SentReply[], guests: Guest[]): Promise<Set<string>> {
  const known = new Set<string>();
  await Promise.all(
    replies.map(async (reply) => {
      const sent = reply.sent;
      const guest = guests[reply.guest];
      if (!sent || !guest || guest.reader.views.get(sent.assistantMessageId)?.end) return;
      for (const client of guest.clients) {
        const signal = AbortSignal.timeout(1_200);
        const asking = client.json<{ status?: string; content?: string }>(sent.statusUrl, { signal });
        const answer = await within(
          asking.catch(() => null),
          1_200,
          null,
        );
        if (answer?.status !== 200) continue;
        if (answer.body.status === "generating" && answer.body.content) known.add(sent.assistantMessageId);
        return;
      }
    }),
  );
  return known;
}

async function main(): Promise<number> {
  const on = options.redisCluster ? " on a three-master Redis Cluster" : "";
  console.log(`chaos ${options.short ? "short" : "full"} run${on}: seed ${options.seed}, ${options.replies} replies`);
  console.log(
    `  app settings (defaults but for the rate limits): ${Object.entries(knobs.shown)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  );
  const stale = staleSinceBuild();
  if (stale.length > 0) {
    console.log(`  WARNING: ${stale.length} app files changed after the build (${stale.slice(0, 3).join(", ")}…):`);
    console.log("  the web processes run the older build, the workers the newer source; run `npx next build`");
  }
  await cluster.start();
  console.log(`  up in ${((Date.now() - runStartedAt) / 1000).toFixed(1)} s; process logs in ${cluster.logDir}`);
  const run: RunState = { sendsDone: false, deadline: Number.POSITIVE_INFINITY };
  const readerRandom = seededRandom(options.seed + 2);
  const guests = await signInGuests(
    cluster.webs.map((web) => web.baseUrl),
    options,
    readerRandom,
    run,
  );
  const sessions = planSessions(options, seededRandom(options.seed));
  const replies = sessions.flatMap((session) => session.replies);
  const readers: AnyReader[] = guests.map((guest) => guest.reader);
  const following = readers.map((reader) => reader.follow());

  const startedAt = Date.now();
  const faults = emptyFaultRecord();
  const faultRandom = seededRandom(options.seed + 1);
  console.log("  timeline (from the first send):");
  const injecting = injectFaults(
    options.faults,
    {
      cluster,
      readers: () => readers,
      random: faultRandom,
      startedAt,
      probeKnownText: () => knownByStatus(replies, guests),
    },
    faults,
  );
  // Awaited after the sends; until then a failed fault (e.g. Postgres refusing a connection) is
  // held here instead of crashing the run.
  injecting.catch(() => {});
  const sending = sessions.map(async (session) => {
    const guest = guests[session.guest];
    if (!guest) return;
    // Every second session also has a reader of its own stream, resumed with Last-Event-ID.
    const makeReader = (sessionId: string) => {
      if (session.index % 2 !== 0) return null;
      const reader = new SessionReader(
        sessionId,
        `session-${session.index}`,
        guest.clients,
        readerRandom,
        options.cutAfterMs,
        run,
      );
      readers.push(reader);
      following.push(reader.follow());
      return reader;
    };
    await sendSession(session, guest, startedAt, makeReader);
    await Promise.all(session.replies.map((reply) => cancelWhenStreaming(guest, reply, faultRandom)));
  });
  await Promise.all(sending);
  run.sendsDone = true;
  run.deadline = Date.now() + options.settleMs;
  console.log(`  all sends done at ${((Date.now() - startedAt) / 1000).toFixed(1)} s; waiting for every reply to end`);
  // A line every 10 s while replies are still running somewhere, so a slow settle is visible.
  const progress = setInterval(() => {
    const waiting = readers.filter((reader) => reader.waitingFor() > 0);
    const names = waiting.map((reader) => `${reader.name}:${reader.waitingFor()} (${reader.phase})`).join(" ");
    console.log(
      `  ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s  still running at readers: ${names || "none"}`,
    );
  }, 10_000);
  await injecting;
  await Promise.all(following);
  clearInterval(progress);
  console.log(`  readers done at ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

  const figures = await summarize({
    options,
    knobs: knobs.shown,
    commit: commit(),
    runStartedAt,
    sessions,
    guests,
    readers,
    faults,
    run,
    logDir: cluster.logDir,
  });
  return figures.passed ? 0 : 1;
}

main()
  .then(
    (code) => code,
    (error: unknown) => {
      console.error("chaos: the run failed:", error);
      return 2;
    },
  )
  .then(async (code) => {
    clearTimeout(watchdog);
    await stopAll();
    console.log("  stopped every process and redis-server it started; database dropped");
    process.exit(code);
  });
