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
//                                         one send and its 1-token reply at a time, first chunks,
//                                         then resumes (bench/cpu-per-op.ts, as bench/ab.ts uses)
import { Redis } from "ioredis";
import { startApp } from "../tests/support/app";
import { TEST_REDIS_URL } from "../tests/support/services";
import { APP_ENV } from "./app-env";
import { cpuPerOperation } from "./cpu-per-op";
import {
  delivery,
  firstChunkLatency,
  type GcStats,
  gcDelta,
  gcStats,
  localRedisPid,
  resume,
  rssSampler,
  sendLatency,
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
      const gc = gcDelta(await (gcBefore ?? gcAfter), gcAfter);
      const metrics = await (await fetch(`${app.baseUrl}/api/metrics`)).text();
      const open = /^backchannel_sse_connections (\d+)/m.exec(metrics)?.[1];
      console.log(
        `${replies} replies`,
        summarize(result.samples),
        `peak ${result.peak}`,
        `open SSE ${open}`,
        `CPU % of a core while streaming: web ${cpu.web}, worker ${cpu.worker}, redis ${cpu.redis}`,
        `web GCs: ${gc.major} full (${gc.majorMs} ms), ${gc.minor} young (${gc.minorMs} ms)`,
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
    await cpuPerOperation([{ name: "app", app }], Number(args[0] ?? 200));
  } else {
    console.error(`unknown scenario ${scenario}: levels, after-sends, readers, send, resume or cpu`);
    process.exitCode = 2;
  }
} finally {
  await app.stop();
}
process.exit();
