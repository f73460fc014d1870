// npm run bench:cached-chat — how long opening a cached 200-message chat takes in the browser.
// Seeds a chat with 100 turns through the API, opens it once (so IndexedDB holds it), then loads
// the page with the chat API blocked and times navigation start → all 200 messages rendered.
import { chromium } from "@playwright/test";
import { CHROMIUM_LAUNCH } from "../e2e/chromium";
import { startApp } from "../tests/support/app";
import { ApiClient } from "../tests/support/client";
import { summarize, table } from "./stats";

const app = await startApp("embedded", { RATE_LIMIT_SENDS_PER_MINUTE: "100000", LOG_LEVEL: "error" });
const browser = await chromium.launch(CHROMIUM_LAUNCH);
try {
  const page = await browser.newPage();
  await page.goto(`${app.baseUrl}/`);
  await page.locator('[data-connection="connected"]').waitFor();
  const cookies = await page.context().cookies();
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const client = ApiClient.withCookie(app.baseUrl, cookie);
  let sessionId: string | undefined;
  for (let i = 0; i < 100; i++) {
    const sent = await client.send(`/mock tokens=40 tps=0 ttft=0\nQuestion number ${i}: tell me something.`, {
      sessionId,
    });
    sessionId = sent.sessionId;
    await client.readSse(sent.streamUrl);
  }
  const url = `${app.baseUrl}/chat/${sessionId}`;
  await page.goto(url);
  await page.locator("[data-message-id]").nth(199).waitFor();
  await page.waitForTimeout(1_000); // let the cache write
  await page.route(/\/api\/chat\//, (route) => route.abort());
  const samples: number[] = [];
  for (let run = 0; run < 10; run++) {
    await page.goto("about:blank");
    await page.goto(url, { waitUntil: "commit" });
    await page.locator("[data-message-id]").nth(199).waitFor();
    samples.push(await page.evaluate(() => performance.now()));
  }
  console.log(table([["open a cached 200-message chat (navigation → 200 rendered)", summarize(samples)]]));
} finally {
  await browser.close();
  await app.stop();
}
