import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type ChatPage, expect, test } from "./fixtures";

const PHONE = { width: 390, height: 760 };

/** How far the message list is from its end, in pixels (0 = at the bottom). */
const gapToEnd = (chat: ChatPage) =>
  chat.page.locator(".messages").evaluate((list) => list.scrollHeight - list.scrollTop - list.clientHeight);

test("scrolling up during a reply stays put; Jump to latest returns and follows; a send goes down", async ({
  chat,
}) => {
  test.setTimeout(180_000);
  await chat.page.setViewportSize({ width: 900, height: 560 });
  await chat.startChat("/mock tokens=1500 tps=40\nA reply long enough to scroll");
  const reply = chat.assistant();
  const list = chat.page.locator(".messages");
  const length = async () => ((await reply.locator(".text").textContent()) ?? "").length;
  await expect
    .poll(() => list.evaluate((el) => el.scrollHeight - el.clientHeight), { timeout: 60_000 })
    .toBeGreaterThan(400);
  await expect(reply).toHaveAttribute("data-status", "generating");
  expect(await gapToEnd(chat)).toBeLessThan(40); // it followed the reply so far

  await list.hover();
  await chat.page.mouse.wheel(0, -300);
  const jump = chat.page.getByRole("button", { name: "Jump to latest", exact: true });
  await expect(jump).toBeVisible();
  await expect
    .poll(() => list.evaluate((el) => el.scrollTop))
    .toBeLessThan(await list.evaluate((el) => el.scrollHeight - el.clientHeight - 100));
  const scrolledTo = await list.evaluate((el) => el.scrollTop);
  const before = await length();
  await expect.poll(length).toBeGreaterThan(before + 300);
  // The reply grew by lines, and the view stayed where the person put it.
  expect(await list.evaluate((el) => el.scrollTop)).toBe(scrolledTo);
  expect(await gapToEnd(chat)).toBeGreaterThan(100);

  await jump.click();
  await expect(jump).toHaveCount(0);
  const atJump = await length();
  await expect.poll(length).toBeGreaterThan(atJump + 300);
  expect(await gapToEnd(chat)).toBeLessThan(40); // following again
  await expect(reply).toHaveAttribute("data-status", "completed", { timeout: 120_000 });

  await list.hover();
  await chat.page.mouse.wheel(0, -400);
  await expect(jump).toBeVisible();
  await chat.send("/mock tokens=5 tps=100\nAnd one more");
  await expect(chat.page.locator('[data-role="user"]')).toHaveCount(2);
  await expect(jump).toHaveCount(0);
  await expect.poll(() => gapToEnd(chat)).toBeLessThan(40);
});

test("a send the server refuses keeps the draft in the composer and says why", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock tokens=5 tps=100\nA short chat first");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const refusal = chat.page.locator(".composer").getByRole("alert");
  const tooLong = `A very long message ${"x".repeat(32_000)}`;
  await chat.send(tooLong);
  await expect(refusal).toHaveText("Not sent: A message may have at most 32000 characters.");
  await expect(chat.composer).toHaveValue(tooLong);
  await expect(chat.page.locator('[data-role="user"]')).toHaveCount(1);
  // A chat deleted elsewhere refuses with 404: the draft stays again, with the server's reason.
  const deleted = await chat.page.request.delete(`${chat.baseUrl}/api/chat/sessions/${sessionId}`);
  expect(deleted.ok()).toBe(true);
  await chat.send("Is this chat still here?");
  await expect(refusal).toHaveText("Not sent: That chat does not exist.");
  await expect(chat.composer).toHaveValue("Is this chat still here?");
});

test("on a phone, ☰ opens the chats over a backdrop; Escape, the backdrop and a choice close them", async ({
  chat,
}) => {
  await chat.page.setViewportSize(PHONE);
  const first = await chat.startChat("/mock tokens=5 tps=100\nPhone chat one");
  await chat.startChat("/mock tokens=5 tps=100\nPhone chat two");
  const menu = chat.page.getByRole("button", { name: "Menu" });
  const chats = chat.page.getByRole("navigation", { name: "Chats" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(chats).toBeHidden();

  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await expect(chats).toBeVisible();
  // The open menu leaves its own button uncovered: it sits above the menu.
  const button = await menu.boundingBox();
  const panel = await chats.boundingBox();
  expect(button && panel && panel.y >= button.y + button.height).toBe(true);
  await chat.page.keyboard.press("Escape");
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(chats).toBeHidden();
  await expect(menu).toBeFocused();

  await menu.click();
  await expect(chats).toBeVisible();
  // A tap on the dimmed page beside the menu.
  await chat.page.locator(".backdrop").click({ position: { x: PHONE.width - 20, y: 300 } });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(chats).toBeHidden();

  await menu.click();
  await chat.page.locator(`[data-session-id="${first}"] a`).click();
  await chat.page.waitForURL(new RegExp(`/chat/${first}$`));
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(chats).toBeHidden();
  // The same ☰ button closes what it opened.
  await menu.click();
  await expect(chats).toBeVisible();
  await menu.click();
  await expect(chats).toBeHidden();
});

test("the tab title is the open chat's title; + New chat says Backchannel and focuses the composer", async ({
  chat,
}) => {
  await chat.open();
  await expect(chat.page).toHaveTitle("Backchannel");
  const first = await chat.startChat("/mock tokens=5 tps=100\nTitle number one");
  await expect(chat.page).toHaveTitle("Title number one");
  await chat.startChat("/mock tokens=5 tps=100\nTitle number two");
  await expect(chat.page).toHaveTitle("Title number two");
  await chat.page.locator(`[data-session-id="${first}"] a`).click();
  await expect(chat.page).toHaveTitle("Title number one");
  await chat.page.getByRole("link", { name: "+ New chat" }).click();
  await expect(chat.page).toHaveTitle("Backchannel");
  await expect(chat.composer).toBeFocused();
});

test("an address that names no chat of this person says so, with a way back", async ({ chat }) => {
  const notFound = chat.page.getByRole("alert").filter({ hasText: "This chat does not exist" });
  await chat.open("/chat/not-a-uuid");
  await expect(notFound).toBeVisible();
  await expect(chat.composer).toHaveCount(0);
  // A well-formed id the server does not know for this person: it answers 404.
  await chat.open(`/chat/${randomUUID()}`);
  await expect(notFound).toBeVisible();
  await expect(chat.page.locator("[data-message-id]")).toHaveCount(0);
  await notFound.getByRole("link", { name: "Start a new chat" }).click();
  await expect(chat.page).toHaveURL(`${chat.baseUrl}/`);
  await expect(notFound).toHaveCount(0);
  await expect(chat.composer).toBeFocused();
});

test("a chat's page shows its outline before the scripts run, not a blank page", async ({ chat, browser }) => {
  const sessionId = await chat.startChat("/mock tokens=5 tps=100\nOutline me");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  // The server's HTML alone, as a reload paints it before the cache opens.
  const bare = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await bare.newPage();
    await page.goto(`${chat.baseUrl}/chat/${sessionId}`);
    await expect(page.getByRole("status", { name: "Loading the chat" })).toBeVisible();
    await expect(
      page.getByRole("navigation", { name: "Chats" }).getByRole("link", { name: "+ New chat" }),
    ).toBeVisible();
    await expect(page.getByRole("textbox", { name: "Message" })).toBeVisible();
  } finally {
    await bare.close();
  }
});

test("offline, a chat this browser never cached says it opens once back online", async ({ chat, context }) => {
  await chat.open();
  // A chat made elsewhere (here: straight through the API), so this browser's cache never saw it.
  const response = await chat.page.request.post(`${chat.baseUrl}/api/chat/messages`, {
    data: { content: "/mock tokens=5 tps=100\nMade on another device", clientMessageId: randomUUID() },
  });
  const { sessionId, assistantMessageId } = (await response.json()) as {
    sessionId: string;
    assistantMessageId: string;
  };
  await expect.poll(async () => (await chat.storedReply(sessionId, assistantMessageId)).status).toBe("completed");
  // A fresh load: the stream announces running replies only, so nothing of that chat is in the page.
  await chat.open();
  await context.setOffline(true);
  try {
    await expect(chat.page.locator('[data-connection="offline"]')).toBeVisible();
    await chat.page.evaluate((path) => window.history.pushState(null, "", path), `/chat/${sessionId}`);
    await expect(chat.page.getByRole("status").filter({ hasText: "not saved in this browser yet" })).toBeVisible();
  } finally {
    await context.setOffline(false);
  }
  await expect(chat.page.locator('[data-connection="connected"]')).toBeVisible();
  await expect(chat.page.locator('[data-role="user"]')).toContainText("Made on another device");
});

test("messages are articles named by speaker; Copy reply puts a finished reply on the clipboard", async ({
  chat,
  context,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: chat.baseUrl });
  const sessionId = await chat.startChat("/mock tokens=300 tps=30\nCopy me when you are done");
  const reply = chat.page.getByRole("article", { name: "Assistant" });
  await expect(chat.page.getByRole("article", { name: "You" })).toContainText("Copy me when you are done");
  await expect(reply).toHaveAttribute("data-status", "generating");
  const copy = reply.getByRole("button", { name: "Copy reply" });
  await expect(copy).toHaveCount(0); // not while it is written
  await expect(reply.locator('[aria-live="polite"]')).toHaveAttribute("aria-busy", "true");
  await expect(reply).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(reply.locator('[aria-live="polite"]')).toHaveAttribute("aria-busy", "false");
  await expect(reply.locator("time")).toHaveAttribute("title", /\d/);
  await copy.click();
  await expect(reply.getByRole("status")).toHaveText("Copied");
  const copied = await chat.page.evaluate(() => navigator.clipboard.readText());
  const messageId = (await reply.getAttribute("data-message-id")) ?? "";
  expect(copied.length).toBeGreaterThan(100);
  expect(copied).toBe((await chat.storedReply(sessionId, messageId)).raw);
});

test("Export chat downloads the chat as Markdown with both messages", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock tokens=30 tps=200\nExport me please");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await expect(chat.page.getByRole("heading", { level: 1 })).toHaveText("Export me please");
  const downloading = chat.page.waitForEvent("download");
  await chat.page.getByRole("button", { name: "Export chat" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("Export me please.md");
  const markdown = await readFile(await download.path(), "utf8");
  const response = await chat.page.request.get(`${chat.baseUrl}/api/chat/sessions/${sessionId}/messages`);
  const { messages } = (await response.json()) as { messages: Array<{ role: string; content: string }> };
  const [question, answer] = messages.map((m) => m.content.trim());
  expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
  expect(markdown).toBe(`# Export me please\n\n**You**:\n\n${question}\n\n**Assistant**:\n\n${answer}\n`);
});

test("the main screens render in light and dark, on a desktop and a phone", async ({ chat }, testInfo) => {
  test.setTimeout(150_000);
  const shoot = (name: string) => chat.page.screenshot({ path: testInfo.outputPath(`${name}.png`) });
  const background = () => chat.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await chat.page.setViewportSize({ width: 1280, height: 800 });
  await chat.startChat("/mock tokens=20 tps=200\nPlan a weekend in Lisbon");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await chat.startChat("/mock tokens=160 tps=200\nExplain how the replies keep streaming");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await chat.send("/mock tokens=400 tps=20\nAnd what happens when I go offline?");
  await expect(chat.assistant()).toHaveAttribute("data-status", "generating");
  await expect
    .poll(async () => ((await chat.assistant().locator(".text").textContent()) ?? "").length)
    .toBeGreaterThan(80);
  await chat.page.emulateMedia({ colorScheme: "light" });
  expect(await background()).toBe("rgb(255, 255, 255)");
  await shoot("desktop-light");
  await chat.page.emulateMedia({ colorScheme: "dark" });
  expect(await background()).toBe("rgb(17, 17, 17)");
  await shoot("desktop-dark");
  await chat.page.setViewportSize(PHONE);
  await shoot("phone-chat-dark");
  await chat.page.emulateMedia({ colorScheme: "light" });
  await chat.page.getByRole("button", { name: "Menu" }).click();
  await expect(chat.page.getByRole("navigation", { name: "Chats" })).toBeVisible();
  await expect(chat.page.locator(".backdrop")).toBeVisible();
  await chat.page.waitForTimeout(400); // the menu's slide-in, for the picture only
  await shoot("phone-menu");
  await chat.page.keyboard.press("Escape");
  await chat.page.getByRole("button", { name: "Stop" }).click();
  await expect(chat.assistant()).toHaveAttribute("data-status", "cancelled");
  await chat.open("/chat/not-a-uuid");
  await expect(chat.page.getByRole("alert").filter({ hasText: "does not exist" })).toBeVisible();
  await shoot("phone-not-found");
});

test("on a phone the draft has the composer's whole width, and a wide table scrolls instead of breaking words", async ({
  chat,
}) => {
  await chat.page.setViewportSize(PHONE);
  await chat.startChat("/mock tokens=300 tps=300\nExplain database indexes");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const composer = await chat.page.locator("form.composer").boundingBox();
  const draft = await chat.composer.boundingBox();
  expect(composer && draft && draft.width / composer.width).toBeGreaterThan(0.85);
  const send = await chat.page.getByRole("button", { name: "Send", exact: true }).boundingBox();
  expect(send && draft && send.y).toBeGreaterThanOrEqual((draft?.y ?? 0) + (draft?.height ?? 0));
  // Every word of the reply's table stays whole (a hyphen may break a line): each on one line.
  const cells = chat.assistant().locator("table th, table td");
  await expect(cells.first()).toBeVisible();
  const broken = await cells.evaluateAll((all) =>
    all.flatMap((cell) => {
      const text = cell.firstChild;
      if (!text || text.nodeType !== Node.TEXT_NODE) return [];
      const words: string[] = [];
      for (const match of (text.textContent ?? "").matchAll(/[^\s-]+/g)) {
        const range = document.createRange();
        range.setStart(text, match.index);
        range.setEnd(text, match.index + match[0].length);
        if (new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size > 1) words.push(match[0]);
      }
      return words;
    }),
  );
  expect(broken).toEqual([]);
  // The table's box scrolls inside the bubble, and the keyboard reaches it.
  const box = chat.assistant().locator(".table-scroll").first();
  expect(await box.evaluate((el) => getComputedStyle(el).overflowX)).toBe("auto");
  await expect(box).toHaveAttribute("tabindex", "0");
});

test("a view at the end of a chat stays there when the window narrows, as when a phone rotates", async ({ chat }) => {
  await chat.page.setViewportSize({ width: 1280, height: 800 });
  await chat.startChat("/mock tokens=300 tps=300\nExplain database indexes");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await expect.poll(() => gapToEnd(chat)).toBeLessThan(40);
  // The settings dialog opened and closed gives the focus back to its button, as a person would.
  await chat.page.getByRole("button", { name: "Chat settings" }).click();
  await chat.page.keyboard.press("Escape");
  await chat.page.setViewportSize(PHONE);
  await expect.poll(() => gapToEnd(chat)).toBeLessThan(40);
  await expect(chat.page.getByRole("button", { name: "Jump to latest", exact: true })).toHaveCount(0);
  await expect(chat.assistant().getByRole("button", { name: "Regenerate" })).toBeInViewport();
});
