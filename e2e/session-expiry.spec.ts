import { issuerLogin, signIn } from "./accounts";
import { type ChatPage, expect, test } from "./fixtures";

test.use({ accounts: true });

/** The reply shown ends as the server stored it: complete, nothing doubled or lost. */
async function expectComplete(chat: ChatPage, sessionId: string, messageId: string) {
  const reply = chat.page.locator(`[data-message-id="${messageId}"]`);
  await expect(reply).toHaveAttribute("data-status", "completed");
  const stored = await chat.storedReply(sessionId, messageId);
  expect(stored.status).toBe("completed");
  await expect.poll(() => chat.textOf(messageId)).toBe(stored.content);
}

/** Sends a long reply and waits until it is being written; its id. */
async function startLongReply(chat: ChatPage, sessionId: string, text: string): Promise<string> {
  await chat.send(`/mock tokens=400 tps=25\n${text}`);
  await expect(chat.page.locator('[data-role="user"]').last()).toContainText(text);
  await expect(chat.assistant()).toHaveAttribute("data-status", "generating");
  await expect(chat.assistant().locator(".text")).not.toBeEmpty();
  return chat.replyIdOf(sessionId);
}

test("an expired session says so, keeps the draft and the waiting send, and resumes after sign-in", async ({
  chat,
  app,
}) => {
  const login = `e2e-expiry-${test.info().project.name}-${Date.now()}`;
  await chat.open();
  await signIn(chat.page, login);
  const sessionId = await chat.startChat("/mock tokens=12 tps=200\nA question before the session expired");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const running = await startLongReply(chat, sessionId, "A reply running when the session expired");

  // The session runs out: the browser drops its cookie (and the issuer forgets the person too).
  await chat.page.context().clearCookies();
  const waiting = "/mock tokens=12 tps=200\nSent while the session was expired";
  await chat.send(waiting);
  const alert = chat.page.getByRole("alert").filter({ hasText: "Your session has expired." });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText("your draft and the messages waiting to be sent are kept");
  await expect(chat.page.locator('[data-connection="expired"]')).toBeVisible();
  const pending = chat.page.locator('[data-role="user"]').filter({ hasText: "Sent while the session was expired" });
  await expect(pending).toContainText("Waiting for you to sign in");
  const draft = "A draft kept across the sign-in";
  await chat.composer.fill(draft);

  await alert.getByRole("button", { name: "Sign in with Test ID" }).click();
  await issuerLogin(chat.page, login);
  // Back on the chat, signed in again as the same account.
  await expect(chat.page).toHaveURL(`${app.baseUrl}/chat/${sessionId}`);
  await expect(
    chat.page.getByRole("region", { name: "Account" }).getByRole("button", { name: "Sign out" }),
  ).toBeVisible();
  await expect(chat.page.locator('[data-connection="connected"]')).toBeVisible();
  await expect(alert).toHaveCount(0);
  await expect(chat.composer).toHaveValue(draft);
  // The waiting send went out (once), and its reply was written.
  const sent = chat.page.locator('[data-role="user"]').filter({ hasText: "Sent while the session was expired" });
  await expect(sent).toHaveCount(1);
  await expect(sent).not.toContainText("Waiting for");
  const listed = await chat.page.request.get(`${app.baseUrl}/api/chat/sessions/${sessionId}/messages`);
  const { messages } = (await listed.json()) as { messages: Array<{ id: string; role: string; content: string }> };
  expect(messages.filter((m) => m.content === waiting)).toHaveLength(1);
  const lastReply = messages.filter((m) => m.role === "assistant").at(-1)?.id ?? "";
  await expectComplete(chat, sessionId, lastReply);
  // The reply that was running resumed from its cursor: shown whole, as stored.
  await expectComplete(chat, sessionId, running);
});

test("a guest's waiting send and running reply carry over to the account it signs in to", async ({ chat, app }) => {
  const login = `e2e-carry-${test.info().project.name}-${Date.now()}`;
  const sessionId = await chat.startChat("/mock tokens=12 tps=200\nA guest's question");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const running = await startLongReply(chat, sessionId, "A reply running at sign-in");

  // A send that cannot go out (the network fails it) waits in the guest's outbox.
  await chat.page.route("**/api/chat/messages", (route) => route.abort("internetdisconnected"));
  const waiting = "/mock tokens=12 tps=200\nWritten while sends could not go out";
  await chat.send(waiting);
  const pending = chat.page.locator('[data-role="user"]').filter({ hasText: "Written while sends could not go out" });
  await expect(pending).toContainText("Waiting for the network");
  await chat.page.unroute("**/api/chat/messages");

  await signIn(chat.page, login);
  await expect(chat.page).toHaveURL(`${app.baseUrl}/chat/${sessionId}`);
  // The guest's outbox moved to the account's cache, and the send went out from there.
  const sent = chat.page.locator('[data-role="user"]').filter({ hasText: "Written while sends could not go out" });
  await expect(sent).toHaveCount(1);
  await expect(sent).not.toContainText("Waiting for");
  const listed = await chat.page.request.get(`${app.baseUrl}/api/chat/sessions/${sessionId}/messages`);
  const { messages } = (await listed.json()) as { messages: Array<{ id: string; role: string; content: string }> };
  expect(messages.filter((m) => m.content === waiting)).toHaveLength(1);
  await expectComplete(chat, sessionId, messages.filter((m) => m.role === "assistant").at(-1)?.id ?? "");
  // The reply that was running under the guest reaches the signed-in tab whole.
  await expectComplete(chat, sessionId, running);
});

test("a guest whose session ended may start again as a new guest, keeping the draft", async ({ chat, app }) => {
  const sessionId = await chat.startChat("/mock tokens=12 tps=200\nA question of a guest whose session ends");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const before = await chat.page.evaluate(() => window.localStorage.getItem("backchannel:last-user"));
  await chat.page.context().clearCookies();
  await chat.send("/mock tokens=12 tps=200\nSent after the guest's session ended");
  const alert = chat.page.getByRole("alert").filter({ hasText: "Your guest session has ended." });
  await expect(alert).toBeVisible();
  await expect(alert.getByRole("button", { name: "Sign in with Test ID" })).toBeVisible();
  const draft = "A draft a new guest carries on with";
  await chat.composer.fill(draft);

  await alert.getByRole("button", { name: "Continue as a new guest" }).click();
  await expect(chat.page).toHaveURL(`${app.baseUrl}/`);
  await expect(chat.page.locator('[data-connection="connected"]')).toBeVisible();
  await expect(alert).toHaveCount(0);
  await expect(chat.composer).toHaveValue(draft);
  await expect
    .poll(() => chat.page.evaluate(() => window.localStorage.getItem("backchannel:last-user")))
    .not.toBe(before);
  // The old guest's chat cannot be reached: the waiting send is given up, and said so.
  await expect(chat.page.getByRole("alert").filter({ hasText: "could not be sent" })).toBeVisible();
  await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toHaveCount(0);
});
