import { expect, test } from "./fixtures";

test("a reply cut off by a network drop completes with no gap once the network returns", async ({ chat, context }) => {
  const sessionId = await chat.startChat("/mock tokens=320 tps=40\nKeep going through the outage");
  const reply = chat.assistant();
  await expect.poll(async () => ((await reply.locator(".text").textContent()) ?? "").length).toBeGreaterThan(60);
  const messageId = (await reply.getAttribute("data-message-id")) ?? "";
  await context.setOffline(true);
  await expect(chat.page.locator('[data-connection="offline"]')).toBeVisible();
  await chat.page.waitForTimeout(2_500);
  await context.setOffline(false);
  await expect(chat.page.locator('[data-connection="connected"]')).toBeVisible();
  await expect(reply).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
  const stored = await chat.storedReply(sessionId, messageId);
  expect(await chat.textOf(messageId)).toBe(stored.content);
});

test("opens cached chats from IndexedDB when the server cannot be reached", async ({ chat, context }) => {
  const first = await chat.startChat("/mock tokens=30 tps=300\nFirst cached chat");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const firstText = await chat.assistant().locator(".text").textContent();
  const second = await chat.startChat("/mock tokens=30 tps=300\nSecond cached chat");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await chat.page.waitForTimeout(600); // the cache writes a moment after a change
  // A fresh load in which the chat API answers nothing: what shows comes from IndexedDB.
  await chat.page.route(/\/api\/chat\/(sessions|stream|active-streams)/, (route) => route.abort());
  await chat.page.goto(`${chat.baseUrl}/chat/${second}`);
  await expect(chat.page.locator(`[data-session-id="${first}"]`)).toBeVisible();
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await context.setOffline(true);
  await expect(chat.page.locator('[data-connection="offline"]')).toBeVisible();
  await chat.page.locator(`[data-session-id="${first}"] a`).click();
  await expect(chat.page.locator('[data-role="user"]').first()).toContainText("First cached chat");
  await expect(chat.assistant().locator(".text")).toHaveText(firstText ?? "");
  await context.setOffline(false);
});

test("a message written offline waits in the outbox and is sent once when the network returns", async ({
  chat,
  context,
}) => {
  const sessionId = await chat.startChat("/mock tokens=10 tps=200\nBefore the outage");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await context.setOffline(true);
  await expect(chat.page.locator('[data-connection="offline"]')).toBeVisible();
  await chat.send("/mock tokens=10 tps=200\nWritten while offline");
  const waiting = chat.page.locator('[data-role="user"][data-status="queued"]');
  await expect(waiting).toContainText("Written while offline");
  await context.setOffline(false);
  await expect(waiting).toHaveCount(0, { timeout: 30_000 });
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const response = await chat.page.request.get(`${chat.baseUrl}/api/chat/sessions/${sessionId}/messages`);
  const { messages } = (await response.json()) as { messages: Array<{ role: string; content: string }> };
  expect(messages.filter((m) => m.content.includes("Written while offline"))).toHaveLength(1);
  expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
});

test("a cached chat opens after a reload while offline", async ({ chat, context }) => {
  const sessionId = await chat.startChat("/mock tokens=30 tps=300\nRead me on a plane");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const text = await chat.assistant().locator(".text").textContent();
  // Once the service worker controls the page, a load keeps the app shell for offline use.
  await chat.page.evaluate(() => navigator.serviceWorker.ready);
  await chat.page.reload();
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await chat.page.waitForTimeout(500);
  await context.setOffline(true);
  await chat.page.reload();
  await expect(chat.page.locator('[data-connection="offline"]')).toBeVisible();
  await expect(chat.page.locator(`[data-session-id="${sessionId}"]`)).toBeVisible();
  await expect(chat.assistant().locator(".text")).toHaveText(text ?? "");
  await context.setOffline(false);
});

test("the cache keeps messages of the 50 most recently opened chats only", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock tokens=5 tps=100\nSeed the cache");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const userId = await chat.page.evaluate(() => window.localStorage.getItem("backchannel:last-user"));
  const dbName = `backchannel-${userId}`;
  // The page writes its chat with the finished reply a moment after the change: wait for it, so
  // the reload below finds the page's own chat cached beside the seeded ones.
  await expect
    .poll(() =>
      chat.page.evaluate(
        async ([name, id]) => {
          const db = await new Promise<IDBDatabase>((resolve) => {
            const request = indexedDB.open(name);
            request.onsuccess = () => resolve(request.result);
          });
          const all = await new Promise<Array<{ sessionId: string; role: string; status: string }>>((resolve) => {
            const request = db.transaction("messages").objectStore("messages").getAll();
            request.onsuccess = () => resolve(request.result);
          });
          db.close();
          return all.some((m) => m.sessionId === id && m.role === "assistant" && m.status === "completed");
        },
        [dbName, sessionId] as const,
      ),
    )
    .toBe(true);
  // 55 old chats with one message each, opened at times 1..55.
  await chat.seedCache(
    Array.from({ length: 55 }, (_, k) => ({
      id: `00000000-0000-4000-8000-${String(k + 1).padStart(12, "0")}`,
      title: `old ${k + 1}`,
      at: new Date(Date.UTC(2020, 0, 1, 0, 0, k + 1)).toISOString(),
      lastAccessedAt: k + 1,
    })),
  );
  // The server does not know the seeded chats: keep its list away so only the pruning acts on them.
  await chat.page.route(/\/api\/chat\/sessions/, (route) => route.abort());
  await chat.page.reload();
  await expect(chat.page.locator('[data-connection="connected"]')).toBeVisible();
  const kept = async () =>
    (await chat.cached()).messageSessions
      .filter((id) => id.startsWith("00000000-"))
      .map((id) => Number(id.slice(-12)))
      .sort((a, b) => a - b);
  // The chat just opened is the newest; of the 55 seeded, the 49 most recently opened keep theirs.
  await expect.poll(kept).toEqual(Array.from({ length: 49 }, (_, i) => i + 7));
});

test("a chat another tab put in the cache stays there when this tab writes its own list", async ({ chat }) => {
  const first = await chat.startChat("/mock tokens=5 tps=100\nFirst chat");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await expect.poll(async () => (await chat.cached()).sessions).toEqual([first]);
  // Another tab of the same person made a chat and cached it; this tab's list does not have it.
  const other = "00000000-0000-4000-8000-0000000000aa";
  await chat.seedCache([{ id: other, title: "the other tab", at: new Date().toISOString(), lastAccessedAt: 1 }]);
  // This tab starts a second chat without a reload, so it writes its list of two.
  await chat.page.getByRole("link", { name: "+ New chat" }).click();
  await chat.send("/mock tokens=5 tps=100\nSecond chat");
  await chat.page.waitForURL((url) => /\/chat\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(first));
  const second = chat.page.url().split("/").at(-1) ?? "";
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await expect.poll(async () => (await chat.cached()).sessions).toEqual([other, first, second].sort());
  // A moment later (the page writes a moment after each change) the other tab's chat is still whole.
  await chat.page.waitForTimeout(600);
  expect(await chat.cached()).toEqual({
    sessions: [other, first, second].sort(),
    messageSessions: [other, first, second].sort(),
  });
});
