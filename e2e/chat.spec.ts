import { expect, shownWords, test } from "./fixtures";

test("sends a message and shows the whole reply, equal to what the server stored", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock tokens=80 tps=200\nHello from the browser");
  const reply = chat.assistant();
  await expect(reply).toHaveAttribute("data-status", "completed");
  const messageId = (await reply.getAttribute("data-message-id")) ?? "";
  const stored = await chat.storedReply(sessionId, messageId);
  expect(stored.status).toBe("completed");
  expect(await chat.textOf(messageId)).toBe(stored.content);
  await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toContainText("Hello from the browser");
});

test("reloading in the middle of a long reply continues it with nothing doubled or missing", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock tokens=600 tps=40\nA long story, please");
  const reply = chat.assistant();
  await expect(reply).toHaveAttribute("data-status", "generating");
  await expect.poll(async () => ((await reply.locator(".text").textContent()) ?? "").length).toBeGreaterThan(200);
  const messageId = (await reply.getAttribute("data-message-id")) ?? "";
  const beforeReload = await chat.textOf(messageId);
  const streamUrls: string[] = [];
  chat.page.on("request", (request) => request.url().includes("/api/chat/stream") && streamUrls.push(request.url()));
  await chat.page.reload();
  await expect(chat.page.locator(`[data-message-id="${messageId}"]`)).toHaveAttribute("data-status", "generating");
  // The page shows its cached copy (at most a moment behind) and resumes from the cached cursor.
  const afterReload = await chat.textOf(messageId);
  expect(beforeReload.startsWith(afterReload) || afterReload.startsWith(beforeReload)).toBe(true);
  const cursor = new URL(streamUrls[0] ?? "http://x/").searchParams.get("cursors") ?? "";
  expect(cursor).toMatch(new RegExp(`^${messageId}:1:([1-9]\\d*)$`));
  await expect(chat.page.locator(`[data-message-id="${messageId}"]`)).toHaveAttribute("data-status", "completed", {
    timeout: 45_000,
  });
  const stored = await chat.storedReply(sessionId, messageId);
  expect(await chat.textOf(messageId)).toBe(stored.content);
});

test("replies in three chats keep streaming while the person switches between them", async ({ chat }) => {
  const chats: string[] = [];
  for (const topic of ["apples", "boats", "clouds"])
    chats.push(await chat.startChat(`/mock tokens=150 tps=30\nTell me about ${topic}`));
  for (const sessionId of chats)
    await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toHaveAttribute("data-running", "true");
  for (const sessionId of [...chats, ...chats]) {
    await chat.page.locator(`[data-session-id="${sessionId}"] a`).click();
    await chat.page.waitForURL(new RegExp(`/chat/${sessionId}$`));
    await expect(chat.assistant()).toBeVisible();
  }
  for (const sessionId of chats) {
    const messageId = await chat.replyIdOf(sessionId);
    await chat.page.locator(`[data-session-id="${sessionId}"] a`).click();
    await chat.page.waitForURL(new RegExp(`/chat/${sessionId}$`));
    const reply = chat.page.locator(`[data-message-id="${messageId}"]`);
    await expect(reply).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
    const stored = await chat.storedReply(sessionId, messageId);
    expect(await chat.textOf(messageId)).toBe(stored.content);
    await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toHaveAttribute("data-running", "false");
  }
});

test("stopping a running reply keeps its partial text, also after a reload", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock tokens=600 tps=30\nThis one gets stopped");
  const reply = chat.assistant();
  await expect.poll(async () => ((await reply.locator(".text").textContent()) ?? "").length).toBeGreaterThan(40);
  await reply.getByRole("button", { name: "Stop" }).click();
  await expect(reply).toHaveAttribute("data-status", "cancelled");
  const messageId = (await reply.getAttribute("data-message-id")) ?? "";
  const stored = await chat.storedReply(sessionId, messageId);
  expect(stored.status).toBe("cancelled");
  expect(stored.content.length).toBeGreaterThan(0);
  await expect.poll(() => chat.textOf(messageId)).toBe(stored.content);
  await chat.page.reload();
  await expect(chat.page.locator(`[data-message-id="${messageId}"]`)).toHaveAttribute("data-status", "cancelled");
  expect(await chat.textOf(messageId)).toBe(stored.content);
});

test("two tabs on one chat agree: the same finished reply, a send and a stop in one show in the other", async ({
  chat,
  context,
}) => {
  const sessionId = await chat.startChat("/mock tokens=200 tps=40\nShared between tabs");
  const second = await context.newPage();
  await second.goto(`${chat.baseUrl}/chat/${sessionId}`);
  const messageId = (await chat.assistant().getAttribute("data-message-id")) ?? "";
  for (const page of [chat.page, second]) {
    await expect(page.locator(`[data-message-id="${messageId}"]`)).toHaveAttribute("data-status", "completed", {
      timeout: 30_000,
    });
  }
  const texts = await Promise.all([chat.page, second].map((page) => shownWords(page, messageId)));
  expect(texts[0]).toBe(texts[1]);
  expect(texts[0]).toBe((await chat.storedReply(sessionId, messageId)).content);
  // A send in the second tab shows in the first; a stop in the first shows in the second.
  const composer = second.getByRole("textbox", { name: "Message" });
  await composer.fill("/mock tokens=600 tps=20\nAsked in the second tab");
  await composer.press("Enter");
  await expect(chat.page.locator('[data-role="user"]').last()).toContainText("Asked in the second tab");
  const reply = chat.assistant();
  await expect(reply).toHaveAttribute("data-status", "generating");
  await reply.getByRole("button", { name: "Stop" }).click();
  await expect(second.locator('[data-role="assistant"]').last()).toHaveAttribute("data-status", "cancelled");
});

test("many re-renders while streaming open no second connection", async ({ chat }) => {
  const streams: string[] = [];
  chat.page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/chat/stream")) streams.push(request.url());
  });
  await chat.startChat("/mock tokens=300 tps=60\nRender me a lot");
  // Typing re-renders the composer and the shell on every key; the reply re-renders on every chunk.
  for (let i = 0; i < 60; i++) await chat.composer.pressSequentially("x", { delay: 5 });
  await chat.composer.fill("");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
  expect(streams).toHaveLength(1);
});

test("a failed reply shows an error with Retry, and Retry asks again (a new version, not a second question)", async ({
  chat,
}) => {
  const sessionId = await chat.startChat("/mock fail=always tokens=20 tps=400\nThis will fail");
  const failed = chat.assistant();
  await expect(failed).toHaveAttribute("data-status", "error", { timeout: 30_000 });
  await expect(failed.getByRole("alert")).toBeVisible();
  const failedId = await failed.getAttribute("data-message-id");
  await failed.getByRole("button", { name: "Retry" }).click();
  await expect(chat.assistant()).not.toHaveAttribute("data-message-id", failedId ?? "");
  await expect(chat.assistant()).toHaveAttribute("data-status", "error", { timeout: 30_000 });
  const response = await chat.page.request.get(`${chat.baseUrl}/api/chat/sessions/${sessionId}/messages`);
  const { messages } = (await response.json()) as { messages: Array<{ role: string }> };
  expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "assistant"]);
});

test("a reply that finishes in a chat not on screen marks it, and notifies when the page is hidden", async ({
  chat,
  context,
}) => {
  await context.grantPermissions(["notifications"], { origin: chat.baseUrl });
  await chat.page.addInitScript(() => {
    const Real = window.Notification;
    const shown: string[] = [];
    (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
    class Observed extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        shown.push(title);
      }
    }
    window.Notification = Observed as typeof Notification;
    // Headless Chromium never hides a page: emulate the Page Visibility state the app reads.
    let hidden = false;
    Object.defineProperty(document, "hidden", { get: () => hidden, configurable: true });
    Object.defineProperty(document, "visibilityState", {
      get: () => (hidden ? "hidden" : "visible"),
      configurable: true,
    });
    (window as unknown as { setHidden: (value: boolean) => void }).setHidden = (value) => {
      hidden = value;
      document.dispatchEvent(new Event("visibilitychange"));
    };
  });
  const first = await chat.startChat("/mock tokens=120 tps=40\nFinish while I look away");
  await chat.startChat("/mock tokens=5 tps=100\nMeanwhile, here");
  const entry = chat.page.locator(`[data-session-id="${first}"]`);
  await expect(entry).toHaveAttribute("data-running", "false", { timeout: 30_000 });
  await expect(entry.getByRole("img", { name: "New reply" })).toBeVisible();
  await entry.locator("a").click();
  await expect(entry.getByRole("img", { name: "New reply" })).toHaveCount(0);
  // Hidden page: a finished reply raises a notification titled with its chat.
  await chat.send("/mock tokens=60 tps=30\nTell me when done");
  await chat.page.evaluate(() => (window as unknown as { setHidden: (value: boolean) => void }).setHidden(true));
  await expect
    .poll(() => chat.page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications), {
      timeout: 30_000,
    })
    .toContain("Finish while I look away");
});
