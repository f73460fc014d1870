import { expect, type Page } from "@playwright/test";

/** Signs in through the local issuer's login and consent forms, as a person would. */
export async function signIn(page: Page, login: string) {
  const account = page.getByRole("region", { name: "Account" });
  await account.getByText("Sign in", { exact: true }).click();
  await account.getByRole("button", { name: "Sign in with Test ID" }).click();
  await issuerLogin(page, login);
  await expect(account.getByRole("button", { name: "Sign out" })).toBeVisible();
}

/** The issuer's login form, then its consent form (asked once per grant: it may not come again). */
export async function issuerLogin(page: Page, login: string) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  const account = page.getByRole("region", { name: "Account" });
  await expect(consent.or(account)).toBeVisible();
  if (await consent.isVisible()) await consent.click();
}
