// npm run bench:cached-chat — how long a cached 200-message chat takes to show in Chromium.
// Seeds a chat of 100 turns and a short one through the API and opens both once (so IndexedDB
// holds them), then times, RUNS (env, default 15) times each:
// - reload: navigation start → the chat painted from IndexedDB, with the chat API blocked; and
//   navigation start → all 200 messages in the page (a long chat renders from its end up);
// - switch: a click on it in the sidebar, from the short chat of a freshly loaded page → painted
//   (online: the server's list is asked for meanwhile, as in use);
// - switch back: the same click once the chat was shown in this page before.
// "Painted" (bench/paint-probe.ts) is what a person sees of it: its last message in the DOM, the
// list scrolled to its bottom, and the next frame drawn. `-- --profile=DIR` also writes a CPU
// profile (Chrome DevTools format) of one more run of each case, not counted.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Page } from "@playwright/test";
import { CHROMIUM_LAUNCH } from "../e2e/chromium";
import { startApp } from "../tests/support/app";
import { ApiClient } from "../tests/support/client";
import { installPaintProbe, type ProbedChat, recordClickOn } from "./paint-probe";
import { summarize, table } from "./stats";

const RUNS = Number(process.env.RUNS ?? 15);
const profileDir = process.argv.find((arg) => arg.startsWith("--profile="))?.slice("--profile=".length);
const CHAT_API = /\/api\/chat\//;

const app = await startApp("embedded", { RATE_LIMIT_SENDS_PER_MINUTE: "100000", LOG_LEVEL: "error" });
const browser = await chromium.launch(CHROMIUM_LAUNCH);

/** Sends `turns` questions into one chat, each reply read to its end; returns the chat's id. */
async function seedChat(client: ApiClient, turns: number, topic: string): Promise<string> {
  let sessionId: string | undefined;
  for (let i = 0; i < turns; i++) {
    const content = `/mock tokens=40 tps=0 ttft=0\n${topic} question number ${i}: tell me something.`;
    const sent = await client.send(content, { sessionId });
    sessionId = sent.sessionId;
    await client.readSse(sent.streamUrl);
  }
  if (!sessionId) throw new Error("no chat was seeded");
  return sessionId;
}

/** Runs `work` with a CPU profile of the page around it, written to `--profile=DIR/<name>.cpuprofile`. */
async function profiled<T>(page: Page, name: string | null, work: () => Promise<T>): Promise<T> {
  if (!profileDir || !name) return work();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
  await cdp.send("Profiler.start");
  const result = await work();
  const { profile } = await cdp.send("Profiler.stop");
  mkdirSync(profileDir, { recursive: true });
  writeFileSync(path.join(profileDir, `${name}.cpuprofile`), JSON.stringify(profile));
  await cdp.detach();
  return result;
}

/** Opens `url` afresh (the chat API blocked): navigation start → the chat painted, and → all of it. */
async function reload(page: Page, url: string): Promise<{ painted: number; whole: number }> {
  await page.goto("about:blank");
  await page.goto(url, { waitUntil: "commit" });
  return page.evaluate(async () => {
    if (!window.__painted || !window.__whole) throw new Error("no paint probe");
    return { painted: await window.__painted, whole: await window.__whole };
  });
}

/** Clicks the chat at `path` in the sidebar and times the click → the chat painted. */
async function switchTo(page: Page, chatPath: string, chat: ProbedChat): Promise<number> {
  await page.evaluate(recordClickOn, chatPath);
  await page.evaluate(installPaintProbe, chat);
  await page.locator(`.sidebar a[href="${chatPath}"]`).click();
  return page.evaluate(async () => {
    const painted = await (window.__painted ?? Promise.reject(new Error("no paint probe")));
    if (window.__clickedAt === undefined) throw new Error("the click was not seen");
    return painted - window.__clickedAt;
  });
}

try {
  const context = await browser.newContext();
  // tsx keeps function names with a `__name` helper that the functions sent to the page call.
  await context.addInitScript({ content: "globalThis.__name = (fn) => fn;" });
  const page = await context.newPage();
  await page.goto(`${app.baseUrl}/`);
  await page.locator('[data-connection="connected"]').waitFor();
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const client = ApiClient.withCookie(app.baseUrl, cookie);
  const shortPath = `/chat/${await seedChat(client, 1, "Short")}`;
  const longPath = `/chat/${await seedChat(client, 100, "Long")}`;
  await page.goto(`${app.baseUrl}${shortPath}`);
  await page.locator("[data-message-id]").nth(1).waitFor();
  const short = {
    lastMessageId: (await page.locator("[data-message-id]").last().getAttribute("data-message-id")) ?? "",
    count: 2,
  };
  await page.goto(`${app.baseUrl}${longPath}`);
  await page.locator('[data-status="completed"][data-role="assistant"]').last().waitFor();
  const listed = `/api/chat/sessions/${longPath.slice("/chat/".length)}/messages`;
  const messages = await client.json<{ messages: Array<{ id: string }> }>(listed);
  const long = { lastMessageId: messages.body.messages.at(-1)?.id ?? "", count: messages.body.messages.length };
  if (long.count !== 200 || !long.lastMessageId) throw new Error("the long chat is not 200 messages");
  await page.locator(`[data-message-id="${long.lastMessageId}"]`).waitFor();
  await page.waitForTimeout(1_000); // let the cache write

  await page.addInitScript(installPaintProbe, long);
  await page.route(CHAT_API, (route) => route.abort());
  const reloads: Array<{ painted: number; whole: number }> = [];
  for (let run = 0; run < RUNS; run++) reloads.push(await reload(page, `${app.baseUrl}${longPath}`));
  await profiled(page, "reload", () => reload(page, `${app.baseUrl}${longPath}`));
  await page.close();

  const switches: number[] = [];
  const switchesBack: number[] = [];
  const switching = await context.newPage(); // one without the reload's probe and blocked API
  for (let run = 0; run <= RUNS; run++) {
    await switching.goto(`${app.baseUrl}${shortPath}`);
    await switching.locator('[data-connection="connected"]').waitFor();
    await switching.locator(`.sidebar a[href="${longPath}"]`).waitFor();
    await switching.waitForTimeout(500); // the page's own start-up work done, as before a person's click
    const last = run === RUNS; // the profiled run, not counted
    const first = await profiled(switching, last ? "switch" : null, () => switchTo(switching, longPath, long));
    await switching.waitForTimeout(300);
    await switchTo(switching, shortPath, short);
    await switching.waitForTimeout(300);
    const back = await profiled(switching, last ? "switch-back" : null, () => switchTo(switching, longPath, long));
    if (last) break;
    switches.push(first);
    switchesBack.push(back);
  }
  const load = os.loadavg()[0]?.toFixed(2);
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}, Chromium ${browser.version()}, load average ${load}`);
  console.log(
    table([
      ["reload: navigation → 200-message chat painted (API blocked)", summarize(reloads.map((r) => r.painted))],
      ["reload: navigation → all 200 messages in the page, painted", summarize(reloads.map((r) => r.whole))],
      ["switch: sidebar click → painted (first time in the page)", summarize(switches)],
      ["switch back: sidebar click → painted (shown before)", summarize(switchesBack)],
    ]),
  );
} finally {
  await browser.close();
  await app.stop();
}
