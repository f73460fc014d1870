import { expect, test } from "./fixtures";

// Nine tabs of one person against MAX_SSE_PER_USER (8): the newest always connects, the oldest is
// told `superseded` and waits, paused, until the person looks at it again; then it connects and
// the oldest of the others pauses in its place. No tab reconnects by itself in a loop. Each tab has
// a browser context of its own with the person's cookie: over HTTP/1.1 a browser opens at most six
// connections to one host, and an SSE stream holds one (behind HTTP/2, as on Vercel, they share one).
test("a ninth tab pauses the oldest, which comes back when it is looked at", async ({ page, app, browser }) => {
  const connection = (p: typeof page) => p.locator("[data-connection]");
  await page.goto(`${app.baseUrl}/`);
  await expect(connection(page)).toHaveAttribute("data-connection", "connected");
  const others = [];
  for (let i = 0; i < 8; i++) {
    const context = await browser.newContext();
    await context.addCookies(await page.context().cookies());
    const tab = await context.newPage();
    await tab.goto(`${app.baseUrl}/`);
    await expect(connection(tab)).toHaveAttribute("data-connection", "connected");
    others.push(tab);
  }
  await expect(connection(page)).toHaveAttribute("data-connection", "paused");
  await expect(connection(page)).toContainText("Paused");
  // It stays paused while nobody looks at it (no reconnect loop pushing the others out).
  await page.waitForTimeout(1_500);
  await expect(connection(page)).toHaveAttribute("data-connection", "paused");
  for (const tab of others) await expect(connection(tab)).toHaveAttribute("data-connection", "connected");
  // The person comes back to it: it connects, and the oldest other tab pauses instead.
  await page.evaluate(() => window.dispatchEvent(new Event("focus")));
  await expect(connection(page)).toHaveAttribute("data-connection", "connected");
  await expect(connection(others[0] ?? page)).toHaveAttribute("data-connection", "paused");
  for (const tab of others.slice(1)) await expect(connection(tab)).toHaveAttribute("data-connection", "connected");
  for (const tab of others) await tab.context().close();
});
