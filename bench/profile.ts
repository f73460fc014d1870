// npx tsx bench/profile.ts <scenario> [args]: one benchmark scenario against Backchannel alone
// (Redis mode, separate worker), to profile it. With APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
// the web and worker processes write CPU profiles into DIR when they stop.
//   levels [replies=1000] [tokens=1200]   delivery, N replies × 1 reader at 60 tok/s, and the CPU of
//                                         web, worker and Redis while they stream; "300,1000"
//                                         runs one level after the other in the same app
//   after-sends [replies=1000]            600 short sends (as the full run's send rows), then a level:
//                                         reproduces the full run's slower 1,000-reply p99
//   readers                               delivery, 1 reply × 300 readers
//   send                                  send → 202 (1 and 50 senders), send → first chunk
//   resume [rounds=3]                     rounds of 12 resumes halfway through 4,000 tokens
//   cpu [count=200]                       CPU ms per operation in the web and the worker (from /proc):
//                                         one send and its 1-token reply at a time, then resumes;
//                                         steadier than latency on a shared, noisy machine
import { Redis } from "ioredis";
import { startApp } from "../tests/support/app";
import { TEST_REDIS_URL } from "../tests/support/services";
import { APP_ENV } from "./app-env";
import { openSse } from "./http";
import {
  cpuSeconds,
  delivery,
  firstChunkLatency,
  type GcStats,
  gcStats,
  guest,
  localRedisPid,
  resume,
  rssSampler,
  sendLatency,
  sendMessage,
} from "./scenarios";
import { summarize } from "./stats";

const [scenario = "levels", ...args] = process.argv.slice(2);
const redisPid = await (async () => {
  const client = new Redis(TEST_REDIS_URL);
  try {
    return await localRedisPid(client, TEST_REDIS_URL);
  } finally {
    client.disconnect();
  }
})();
const app = await startApp("redis", APP_ENV);
const system = { kind: "app" as const, baseUrl: app.baseUrl };
try {
  if (scenario === "levels") {
    for (const replies of (args[0] ?? "1000").split(",").map(Number)) {
      // CPU from the last send to the last end: mostly the streaming, the starts left out.
      const sampler = rssSampler({ ...app.pids(), redis: redisPid });
      let gcBefore: Promise<GcStats> | null = null;
      const result = await delivery(system, {
        replies,
        readersPerReply: 1,
        tokens: Number(args[1] ?? 1200),
        tps: 60,
        onRunning: () => {
          sampler.restartCpu();
          gcBefore = gcStats(app.baseUrl);
        },
      });
      const { cpu } = sampler.stop();
      const gcAfter = await gcStats(app.baseUrl);
      const before = (await (gcBefore ?? gcStats(app.baseUrl))).count;
      const metrics = await (await fetch(`${app.baseUrl}/api/metrics`)).text();
      const open = /^backchannel_sse_connections (\d+)/m.exec(metrics)?.[1];
      console.log(
        `${replies} replies`,
        summarize(result.samples),
        `peak ${result.peak}`,
        `open SSE ${open}`,
        `CPU % of a core while streaming: web ${cpu.web}, worker ${cpu.worker}, redis ${cpu.redis}`,
        `web GCs: ${(gcAfter.count.major ?? 0) - (before.major ?? 0)} full, ${(gcAfter.count.minor ?? 0) - (before.minor ?? 0)} young`,
        result.problems,
      );
    }
  } else if (scenario === "after-sends") {
    await sendLatency(system, 50, 10);
    await firstChunkLatency(system, 100);
    const replies = Number(args[0] ?? 1000);
    const result = await delivery(system, { replies, readersPerReply: 1, tokens: 1800, tps: 60 });
    console.log(
      `${replies} replies after 600 sends`,
      summarize(result.samples),
      `peak ${result.peak}`,
      result.problems,
    );
  } else if (scenario === "readers") {
    const result = await delivery(system, { replies: 1, readersPerReply: 300, tokens: 300, tps: 60 });
    console.log("1 reply × 300 readers", summarize(result.samples), result.problems);
  } else if (scenario === "send") {
    await sendLatency(system, 4, 5);
    console.log("send → 202, 1 sender", summarize(await sendLatency(system, 1, 60)));
    console.log("send → 202, 50 senders", summarize(await sendLatency(system, 50, 4)));
    console.log("send → first chunk", summarize(await firstChunkLatency(system, 30)));
  } else if (scenario === "resume") {
    // The first round runs cold (the JIT has not seen the replay path yet); later rounds are the figure.
    for (let round = 1; round <= Number(args[0] ?? 3); round++) {
      const result = await resume(system, { count: 12, tokens: 4000, tps: 1000, awayMs: 500 });
      console.log(`resume, round ${round}`, summarize(result.samples), result.problems);
    }
  } else if (scenario === "cpu") {
    await cpuPerOperation(Number(args[0] ?? 200));
  } else {
    console.error(`unknown scenario ${scenario}: levels, after-sends, readers, send, resume or cpu`);
    process.exitCode = 2;
  }
} finally {
  await app.stop();
}
process.exit();

/** User + system CPU time of a process so far, ms. */
function cpuMs(pid: number | undefined): number {
  return cpuSeconds(pid) * 1000;
}

async function cpuPerOperation(count: number) {
  const { web, worker } = app.pids();
  const user = await guest(app.baseUrl);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 15));
  const measure = async (label: string, operation: (i: number) => Promise<void>) => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [web0, worker0] = [cpuMs(web), cpuMs(worker)];
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const startedAt = performance.now();
      await operation(i);
      latencies.push(performance.now() - startedAt);
      await pause();
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const perOp = (pid: number | undefined, before: number) => ((cpuMs(pid) - before) / count).toFixed(2);
    console.log(
      `${label}: web ${perOp(web, web0)} ms, worker ${perOp(worker, worker0)} ms CPU each`,
      summarize(latencies),
    );
  };
  for (let i = 0; i < 50; i++) await sendMessage(app.baseUrl, user, `/mock tokens=1 tps=0 ttft=0\nwarm ${i}`);
  await measure("send → 202 (and its 1-token reply)", async (i) => {
    await sendMessage(app.baseUrl, user, `/mock tokens=1 tps=0 ttft=0\nping ${i}`);
  });
  const sent = await sendMessage(app.baseUrl, user, "/mock tokens=2000 tps=4000 ttft=0\nresume me");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await measure("resume of a finished reply from its 5th chunk", async () => {
    const reader = openSse(
      `${app.baseUrl}/api/chat/stream/${sent.sessionId}`,
      { cookie: user.cookie, "last-event-id": `${sent.assistantMessageId}:1:5` },
      (frame) => (frame.event === "done" ? true : undefined),
    );
    await reader.ended;
  });
}
