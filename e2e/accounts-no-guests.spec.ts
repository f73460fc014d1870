import { accountName } from "../tests/support/oidc-issuer";
import { signIn } from "./accounts";
import { expect, test } from "./fixtures";

// AUTH_GUEST=off with an account provider on: the app offers only the account's sign-in.
test.use({ accounts: true, guests: false });

test("nobody is signed in until they sign in with an account, and sign-out returns there", async ({ chat, app }) => {
  const login = `e2e-noguest-${test.info().project.name}-${Date.now()}`;
  await chat.page.goto(`${app.baseUrl}/`);
  const account = chat.page.getByRole("region", { name: "Account" });
  await expect(account).toContainText("Not signed in.");
  // No guest was made behind the person's back: the browser has no session.
  expect((await chat.page.request.get(`${app.baseUrl}/api/chat/sessions`)).status()).toBe(401);
  await signIn(chat.page, login);
  await expect(account).toContainText(accountName(login));
  const sessionId = await chat.startChat("/mock tokens=12 tps=200\nAsked by an account");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await account.getByRole("button", { name: "Sign out" }).click();
  await expect(account).toContainText("Not signed in.");
  await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toHaveCount(0);
  expect((await chat.page.request.get(`${app.baseUrl}/api/chat/sessions`)).status()).toBe(401);
});
