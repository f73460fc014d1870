import type { Page } from "@playwright/test";
import { ApiClient } from "../tests/support/client";
import { type ChatPage, expect, test } from "./fixtures";

// A long chat renders from its end up (hooks/use-progressive-start.ts): these check that what a
// person ends with is the whole chat, in order, seen from its bottom, however it was opened.
// 20 turns and one more chat: within the 30 sends a minute a user may make.
const TURNS = 20;

/** A chat of `turns` finished question-and-reply pairs, sent through the API as this page's user. */
async function seedLongChat(chat: ChatPage, turns: number): Promise<{ sessionId: string; ids: string[] }> {
  const cookie = (await chat.page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const client = ApiClient.withCookie(chat.baseUrl, cookie);
  let sessionId: string | undefined;
  for (let i = 0; i < turns; i++) {
    const sent = await client.send(`/mock tokens=30 tps=0 ttft=0\nLong chat question ${i}`, { sessionId });
    sessionId = sent.sessionId;
    await client.readSse(sent.streamUrl);
  }
  const listed = await client.json<{ messages: Array<{ id: string }> }>(`/api/chat/sessions/${sessionId}/messages`);
  return { sessionId: sessionId ?? "", ids: listed.body.messages.map((m) => m.id) };
}

const shownIds = (page: Page) =>
  page.locator("[data-message-id]").evaluateAll((all) => all.map((m) => m.getAttribute("data-message-id")));

const distanceFromBottom = (page: Page) =>
  page.locator(".messages").evaluate((list) => list.scrollHeight - list.scrollTop - list.clientHeight);

async function expectWholeAtBottom(chat: ChatPage, ids: string[]) {
  await expect.poll(() => shownIds(chat.page)).toEqual(ids);
  await expect(chat.page.locator(`[data-message-id="${ids.at(-1)}"]`)).toBeInViewport();
  expect(await distanceFromBottom(chat.page)).toBeLessThanOrEqual(32);
  await expect(chat.page.getByRole("button", { name: "Jump to latest", exact: true })).toHaveCount(0);
}

test("a long chat opens at its end and then holds all its messages in order, after a reload and a switch", async ({
  chat,
}) => {
  await chat.open("/");
  const { sessionId, ids } = await seedLongChat(chat, TURNS);
  expect(ids).toHaveLength(2 * TURNS);
  const other = await chat.startChat("/mock tokens=5 tps=0 ttft=0\nA short chat");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");

  await chat.page.goto(`${chat.baseUrl}/chat/${sessionId}`);
  await expectWholeAtBottom(chat, ids);
  await chat.page.waitForTimeout(600); // the cache writes a moment after a change

  await chat.page.reload(); // from the cache this time
  await expectWholeAtBottom(chat, ids);

  await chat.page.locator(`[data-session-id="${other}"] a`).click();
  await expect(chat.page.locator("[data-message-id]")).toHaveCount(2);
  await chat.page.locator(`[data-session-id="${sessionId}"] a`).click();
  await expectWholeAtBottom(chat, ids);

  // The first question is there to scroll back to, and reading it stops the view following.
  const first = chat.page.locator(`[data-message-id="${ids[0]}"]`);
  await expect(first).toContainText("Long chat question 0");
  await first.scrollIntoViewIfNeeded();
  await expect(first).toBeInViewport();
  await expect(chat.page.getByRole("button", { name: "Jump to latest", exact: true })).toBeVisible();
});
