import { type ChatPage, expect, test } from "./fixtures";

const PHONE = { width: 390, height: 760 };

const searchBox = (chat: ChatPage) => chat.page.getByRole("searchbox", { name: "Search chats" });
const resultFor = (chat: ChatPage, messageId: string) => chat.page.locator(`[data-result-message-id="${messageId}"]`);

/** The id the server gave the chat's first user message (not the page's pending one). */
async function firstQuestionId(chat: ChatPage): Promise<string> {
  const question = chat.page.locator('[data-role="user"]').first();
  await expect(question).not.toHaveAttribute("data-message-id", /^pending:/);
  return (await question.getAttribute("data-message-id")) ?? "";
}

/** A chat whose first question holds `word`, with two long replies after it, so it is out of view at the end. */
async function longChatAbout(chat: ChatPage, word: string): Promise<{ sessionId: string; questionId: string }> {
  const sessionId = await chat.startChat(`/mock tokens=5 tps=0\nalpha bravo charlie ${word}`);
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const questionId = await firstQuestionId(chat);
  for (const n of [2, 3]) {
    await chat.send(`/mock tokens=250 tps=0\nA long answer number ${n}`);
    await expect(chat.page.locator('[data-role="assistant"]')).toHaveCount(n);
    await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  }
  await expect(chat.page.locator(`[data-message-id="${questionId}"]`)).not.toBeInViewport();
  return { sessionId, questionId };
}

test("search finds a word and opens its chat at the message; Ctrl+K focuses the box and Escape clears it", async ({
  chat,
}) => {
  await chat.page.setViewportSize({ width: 1000, height: 600 });
  const { sessionId, questionId } = await longChatAbout(chat, "xylophonist");
  await chat.startChat("/mock tokens=5 tps=0\nAnother chat entirely");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");

  await chat.composer.focus();
  await chat.page.keyboard.press("Control+k");
  await expect(searchBox(chat)).toBeFocused();
  await chat.page.keyboard.type("xylophon");
  const result = resultFor(chat, questionId);
  await expect(result).toContainText("alpha bravo charlie xylophonist");
  await expect(result.locator("mark")).toHaveText("xylophonist");
  await expect(chat.page.locator(".chat-search [data-result-message-id]")).toHaveCount(1);

  await result.click();
  await chat.page.waitForURL(new RegExp(`/chat/${sessionId}$`));
  const found = chat.page.locator(`[data-message-id="${questionId}"]`);
  await expect(found).toBeInViewport();
  await expect(found).toHaveAttribute("data-search-hit", "true");
  await expect(found).toBeFocused();

  await chat.page.keyboard.press("Meta+k");
  await expect(searchBox(chat)).toBeFocused();
  await expect(searchBox(chat)).toHaveValue("xylophon");
  await chat.page.keyboard.press("Escape");
  await expect(searchBox(chat)).toHaveValue("");
  await expect(result).toHaveCount(0);
});

test("a result on a version not shown makes its branch the visible one", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock tokens=5 tps=0\nA first draft about marzipan");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const draftId = await firstQuestionId(chat);
  await chat.page.locator('[data-role="user"]').getByRole("button", { name: "Edit" }).click();
  await chat.page.getByRole("textbox", { name: "Edit message" }).fill("/mock tokens=5 tps=0\nA second draft");
  await chat.page.getByRole("button", { name: "Send edit" }).click();
  await expect(chat.page.locator('[data-role="user"]')).toContainText("A second draft");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await expect(chat.page.locator(`[data-message-id="${draftId}"]`)).toHaveCount(0);
  // From another chat, after a reload: the chat's list arrives from the server while it opens.
  await chat.startChat("/mock tokens=5 tps=0\nSomething else");

  await searchBox(chat).fill("marzipan");
  await resultFor(chat, draftId).click();
  await chat.page.waitForURL(new RegExp(`/chat/${sessionId}$`));
  const draft = chat.page.locator(`[data-message-id="${draftId}"]`);
  await expect(draft).toBeInViewport();
  await expect(draft.locator(".version-count")).toHaveText("1 / 2");
  // Chosen like a version: the server keeps it, so a reload shows it too.
  await expect
    .poll(async () => {
      const response = await chat.page.request.get(`${chat.baseUrl}/api/chat/sessions/${sessionId}/messages`);
      const { activeLeafId, messages } = (await response.json()) as {
        activeLeafId: string;
        messages: Array<{ id: string; parentId: string | null }>;
      };
      return messages.find((m) => m.id === activeLeafId)?.parentId;
    })
    .toBe(draftId);
});

test("on a phone the search is in the menu: Ctrl+K opens it, and a result closes it at the message", async ({
  chat,
}) => {
  await chat.page.setViewportSize(PHONE);
  const { sessionId, questionId } = await longChatAbout(chat, "quokkas");
  await chat.startChat("/mock tokens=5 tps=0\nSomething else on the phone");
  // Its reply written, as a person would see it before reaching for the keyboard again.
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const chats = chat.page.getByRole("navigation", { name: "Chats" });
  await expect(chats).toBeHidden();

  await chat.page.keyboard.press("Control+k");
  await expect(chats).toBeVisible();
  await expect(searchBox(chat)).toBeFocused();
  await chat.page.keyboard.type("quokka");
  await resultFor(chat, questionId).click();
  await chat.page.waitForURL(new RegExp(`/chat/${sessionId}$`));
  await expect(chats).toBeHidden();
  await expect(chat.page.getByRole("button", { name: "Menu" })).toHaveAttribute("aria-expanded", "false");
  await expect(chat.page.locator(`[data-message-id="${questionId}"]`)).toBeInViewport();
});

test("offline, the search box says search needs the network, and searches once back", async ({ chat, context }) => {
  await chat.startChat("/mock tokens=5 tps=0\nalpha bravo charlie wombats");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const status = chat.page.locator(".chat-search").getByRole("status");
  await context.setOffline(true);
  try {
    await searchBox(chat).fill("wombats");
    await expect(status).toHaveText(/Search needs the network/);
    await expect(chat.page.locator(".chat-search [data-result-message-id]")).toHaveCount(0);
    await expect(chat.composer).toBeVisible();
  } finally {
    await context.setOffline(false);
  }
  await expect(status).toHaveText("1 message");
  await expect(chat.page.locator(".chat-search mark")).toHaveText("wombats");
});
