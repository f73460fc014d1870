import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { accountEmail, accountName } from "../tests/support/oidc-issuer";
import { signIn } from "./accounts";
import { ChatPage, expect, test } from "./fixtures";

test.use({ accounts: true });

/** The serious or critical accessibility violations in the sidebar's account section. */
async function accountViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).include(".account").analyze();
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
}

/** The IndexedDB databases of the page's origin, by name. */
async function databases(page: Page): Promise<string[]> {
  return page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name ?? "").sort());
}

test("a guest signs in and keeps the chat; another browser sees it; sign-out drops the cache", async ({
  chat,
  browser,
  app,
}) => {
  const login = `e2e-${test.info().project.name}-${Date.now()}`;
  const sessionId = await chat.startChat("/mock tokens=12 tps=200\nA question asked as a guest");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const guestCache = await chat.cacheName();
  const account = chat.page.getByRole("region", { name: "Account" });
  await account.getByText("Sign in", { exact: true }).click();
  await expect(account.getByRole("button", { name: "Sign in with Test ID" })).toBeVisible();
  expect(await accountViolations(chat.page)).toEqual([]);
  await account.getByText("Sign in", { exact: true }).click(); // closed again, as signIn expects

  await signIn(chat.page, login);
  await expect(account).toContainText(accountName(login));
  await expect(account).toContainText(accountEmail(login));
  expect(await accountViolations(chat.page)).toEqual([]);
  // Back on the chat it left, now the account's.
  await expect(chat.page).toHaveURL(`${app.baseUrl}/chat/${sessionId}`);
  await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toBeVisible();
  await expect(chat.page.locator('[data-role="user"]').first()).toContainText("A question asked as a guest");
  const accountCache = await chat.cacheName();
  expect(accountCache).not.toBe(guestCache);
  // The guest's cache went with the guest (its chats are the account's now).
  await expect.poll(() => databases(chat.page)).not.toContain(guestCache);

  // A second browser context (no cookies, no cache) signs in to the same account.
  const other = await browser.newContext();
  try {
    const second = new ChatPage(await other.newPage(), app.baseUrl);
    await second.open();
    await signIn(second.page, login);
    await expect(second.page.locator(`[data-session-id="${sessionId}"]`)).toBeVisible();
    await second.page.locator(`[data-session-id="${sessionId}"] a`).click();
    await expect(second.page.locator('[data-role="user"]').first()).toContainText("A question asked as a guest");
  } finally {
    await other.close();
  }

  // Sign-out: signed out (a guest again, offered to sign in), the account's cache gone.
  await chat.page.waitForTimeout(600); // the cache writes a moment after a change
  expect(await databases(chat.page)).toContain(accountCache);
  await account.getByRole("button", { name: "Sign out" }).click();
  await expect(account.getByText("Sign in", { exact: true })).toBeVisible();
  await expect(account.getByRole("button", { name: "Sign out" })).toHaveCount(0);
  await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toHaveCount(0);
  expect(await databases(chat.page)).not.toContain(accountCache);
  const session = await chat.page.request.get(`${app.baseUrl}/api/auth/session`);
  const body = (await session.json()) as { user?: { guest?: boolean; email?: string } } | null;
  expect(body?.user?.guest).toBe(true);
});
