// Takeover: a worker SIGKILLed mid-reply, with a second worker already running (as in production,
// or in `npm run chaos`): the time from the kill to the first chunk of the continued attempt at a
// reader that stayed connected, and whether that reader's text is whole (the mock model is
// deterministic, so it must be the uninterrupted reply's text, and the stored one): no gap, no
// double, no reset. The wait is the killed worker's lock running out (WORKER_LOCK_MS, renewed every
// half of it) plus BullMQ's stalled check (every WORKER_LOCK_MS / 2), then the continuation's start.
// The same measure as scripts/chaos/takeover.ts, but the continued attempt is known for sure here:
// its chunks carry attempt 2.
import type { ChildProcess } from "node:child_process";
import { Writable } from "node:stream";
import { mockReplyTokens } from "../lib/llm/mock-text";
import { ReplyView } from "../scripts/chaos/reply-view";
import { launch, type RunningApp, stopChild, TSX } from "../tests/support/app";
import { openSse, request } from "./http";
import { guest, pool, sendMessage } from "./scenarios";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TakeoverResult {
  /** Kill → first chunk of the continued attempt at the reader, ms, one per reply that was taken over. */
  samples: number[];
  /** Replies sent, and how many were mid-reply at the kill (the rest ended before it). */
  replies: number;
  takenOver: number;
  /** Replies whose reader text, stored text and the uninterrupted text agree, with no gap, double or reset. */
  whole: number;
  /** Chunks the reader had at the kill that the continued attempt did not keep (0: it kept all of them). */
  chunksRedone: number;
  problems: string[];
}

/** A worker process of `app` (its env), resolved once it has logged that it started. */
async function startExtraWorker(app: RunningApp, name: string): Promise<ChildProcess> {
  let started: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const text = String(chunk);
      if (text.includes('"worker started"')) started();
      if (/"level":"error"/.test(text)) process.stderr.write(text);
      done();
    },
  });
  const child = launch(process.execPath, [...TSX, "workers/index.ts"], { ...app.env, LOG_LEVEL: "info" }, name, sink);
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}) before it started`))),
  );
  await Promise.race([ready, exited, sleep(60_000).then(() => Promise.reject(new Error(`${name} never started`)))]);
  // Its BullMQ worker is made before that line; give its first fetch a moment.
  await sleep(300);
  return child;
}

/**
 * `rounds` kills. Each round: one guest, its all-sessions stream open, sends `replies` replies of
 * `tokens` tokens at `tps` (all taken by the one worker running); once they all stream, a second
 * worker is started; then the first is SIGKILLed at a random point of its lock renewal cycle, and
 * the second continues its replies. The survivor is the next round's victim. The app's own worker
 * is the first victim; the last survivor is stopped here.
 */
export async function takeover(
  app: RunningApp,
  options: { rounds: number; replies: number; tokens: number; tps: number; lockMs: number },
): Promise<TakeoverResult> {
  const result: TakeoverResult = { samples: [], replies: 0, takenOver: 0, whole: 0, chunksRedone: 0, problems: [] };
  let current: ChildProcess | null = null; // null: the app's own worker
  try {
    for (let round = 0; round < options.rounds; round++) {
      const user = await guest(app.baseUrl);
      const views = new Map<string, ReplyView>();
      const continuedAt = new Map<string, number>();
      const seqAtKill = new Map<string, number>();
      const keptSeq = new Map<string, number>();
      let ended: () => void = () => {};
      const allEnded = new Promise<void>((resolve) => {
        ended = resolve;
      });
      const expected = new Map<string, string>();
      const reader = openSse(`${app.baseUrl}/api/chat/stream`, { cookie: user.cookie }, (frame, at) => {
        if (!frame.data) return undefined;
        const data = JSON.parse(frame.data) as Record<string, unknown>;
        const id = typeof data.messageId === "string" ? data.messageId : "";
        if (!id) return undefined;
        let view = views.get(id);
        if (!view) {
          view = new ReplyView(id, String(data.sessionId ?? ""));
          views.set(id, view);
        }
        view.apply({ event: frame.event, id: frame.id, data }, at);
        const attempt = Number(data.attempt ?? 0);
        if (frame.event === "status" && data.continued === true) keptSeq.set(id, Number(data.seq ?? 0));
        if (frame.event === "chunk" && attempt > 1 && !continuedAt.has(id)) continuedAt.set(id, at);
        if (expected.size === options.replies && [...expected.keys()].every((key) => views.get(key)?.end)) ended();
        return undefined;
      });
      await reader.opened;
      const sent = await pool(Array.from({ length: options.replies }), 20, async (_, i) => {
        const content = `/mock tokens=${options.tokens} tps=${options.tps} ttft=0\ntakeover ${round}.${i} ${Date.now()}`;
        const turn = await sendMessage(app.baseUrl, user, content);
        expected.set(turn.assistantMessageId, mockReplyTokens(content, options.tokens).join(""));
        return turn;
      });
      // Every reply streaming (on the one worker there is), then a second worker, then the kill.
      const streamingBy = Date.now() + 30_000;
      while (sent.some((turn) => !views.get(turn.assistantMessageId)?.chunks.length) && Date.now() < streamingBy)
        await sleep(20);
      const survivor = await startExtraWorker(app, `worker-takeover-${round}`);
      // The kill falls anywhere in the dead worker's lock renewal cycle (every lockMs / 2).
      await sleep(Math.random() * (options.lockMs / 2));
      for (const turn of sent) seqAtKill.set(turn.assistantMessageId, views.get(turn.assistantMessageId)?.seq ?? 0);
      const killedAt = performance.now();
      if (current) await stopChild(current, "SIGKILL");
      else await app.killWorker("SIGKILL");
      current = survivor;
      await Promise.race([allEnded, sleep((options.tokens / Math.max(options.tps, 1)) * 1000 + 60_000)]);
      reader.close();

      for (const turn of sent) {
        const id = turn.assistantMessageId;
        const view = views.get(id);
        result.replies++;
        const problem = (text: string) => result.problems.push(`round ${round} ${id.slice(0, 8)}: ${text}`);
        if (!view?.end) {
          problem("never ended at the reader");
          continue;
        }
        const continued = continuedAt.get(id);
        if (continued !== undefined) {
          result.takenOver++;
          result.samples.push(continued - killedAt);
          result.chunksRedone += Math.max(0, (seqAtKill.get(id) ?? 0) - (keptSeq.get(id) ?? 0));
        } else if (view.end.at > killedAt + 1_000) problem("ended after the kill with no continued attempt");
        const stored = await storedReply(app.baseUrl, user.cookie, turn.sessionId, id);
        const issues = [
          view.end.kind !== "completed" ? `ended ${view.end.kind}` : "",
          view.anomalies.length ? view.anomalies.map((a) => `${a.kind} ${a.detail}`).join("; ") : "",
          view.resets.length ? `${view.resets.length} reset(s)` : "",
          view.text !== expected.get(id) ? `reader text ${view.text.length} chars ≠ the reply's` : "",
          stored?.content !== expected.get(id) ? `stored text ${stored?.content.length ?? "none"} ≠ the reply's` : "",
          stored?.status !== "completed" ? `stored ${stored?.status}` : "",
        ].filter(Boolean);
        if (issues.length === 0) result.whole++;
        else problem(issues.join(", "));
      }
    }
  } finally {
    await stopChild(current, "SIGTERM");
  }
  return result;
}

async function storedReply(baseUrl: string, cookie: string, sessionId: string, id: string) {
  const response = await request(`${baseUrl}/api/chat/sessions/${sessionId}/messages`, { headers: { cookie } });
  if (response.status !== 200) return undefined;
  const { messages } = JSON.parse(response.body) as {
    messages: Array<{ id: string; content: string; status: string }>;
  };
  return messages.find((message) => message.id === id);
}
