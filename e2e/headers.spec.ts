import { expect, test } from "./fixtures";

// The page's Content-Security-Policy (proxy.ts) lets the app run whole: its scripts, styles, the
// SSE connection, the service worker and IndexedDB, while a script without the nonce is refused.
declare global {
  interface Window {
    cspViolations: string[];
  }
}

test("a page chats and reloads through its service worker under its CSP with no violation", async ({ chat }) => {
  const { page } = chat;
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) =>
      window.cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`),
    );
  });
  const refusals: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Permissions-Policy|Refused to/i.test(message.text()))
      refusals.push(message.text());
  });
  await chat.startChat("/mock tokens=40 tps=300\nUnder a strict policy");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  // The stylesheet loaded (a refused one would be a violation).
  expect(await page.evaluate(() => document.styleSheets.length)).toBeGreaterThan(0);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await expect(page.locator('[data-connection="connected"]')).toBeVisible();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  expect(await chat.cached()).toMatchObject({ sessions: [expect.any(String)] });
  expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
  expect(refusals).toEqual([]);
});

test.describe("with the service worker kept out of the way of page.route", () => {
  test.use({ serviceWorkers: "block" });

  test("refuses an inline script that has no nonce, as an injection into the page would be", async ({ chat }) => {
    const { page } = chat;
    await page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener("securitypolicyviolation", (event) =>
        window.cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`),
      );
    });
    await page.route(`${chat.baseUrl}/`, async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace("</body>", "<script>window.injected = true</script></body>");
      await route.fulfill({ response, body });
    });
    await chat.open("/");
    await expect.poll(() => page.evaluate(() => window.cspViolations)).toEqual(["script-src-elem inline"]);
    expect(await page.evaluate(() => "injected" in window)).toBe(false);
  });
});
