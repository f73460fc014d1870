import type { FakeAnthropic } from "../tests/support/fake-anthropic";
import { type ChatPage, expect, test } from "./fixtures";

// The chat's settings panel, against the app talking to the real Anthropic SDK on the local fake
// server, which records every model request: what the panel saves is what the model is sent.
test.use({ provider: "anthropic" });

const PHONE = { width: 390, height: 760 };

/** The `system` of the last model request whose turns mention `word`. */
function systemSeenFor(fake: FakeAnthropic | null, word: string): unknown {
  const request = fake?.requests.findLast((r) =>
    JSON.stringify((r.body as { messages?: unknown }).messages).includes(word),
  );
  if (!request) throw new Error(`the model was never asked about "${word}"`);
  return (request.body as { system?: unknown }).system;
}

const settingsButton = (chat: ChatPage) => chat.page.getByRole("button", { name: "Chat settings" });
const panel = (chat: ChatPage) => chat.page.getByRole("dialog", { name: "Chat settings" });
const promptBox = (chat: ChatPage) => panel(chat).getByRole("textbox", { name: "System prompt" });

test("a system prompt saved in the chat settings reaches the model with the next reply, and stays after a reload", async ({
  chat,
  fakeAnthropic,
}) => {
  const sessionId = await chat.startChat("Hello before any prompt, lapwing");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  expect(systemSeenFor(fakeAnthropic, "lapwing")).toBeUndefined();

  const button = settingsButton(chat);
  await expect(button).toHaveAttribute("data-prompt-set", "false");
  await button.click();
  await expect(panel(chat)).toBeVisible();
  await expect(promptBox(chat)).toBeFocused();
  await expect(promptBox(chat)).toHaveValue("");
  const prompt = "You are a terse ship's navigator. Answer in one line.";
  await promptBox(chat).fill(prompt);
  await expect(panel(chat).getByText(`${prompt.length} / 8000 characters`)).toBeVisible();
  await panel(chat).getByRole("button", { name: "Save" }).click();
  await expect(panel(chat).getByRole("status")).toHaveText("Saved");
  await expect(panel(chat).getByRole("button", { name: "Save" })).toBeDisabled();
  await panel(chat).getByRole("button", { name: "Close" }).click();
  await expect(panel(chat)).toBeHidden();
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute("data-prompt-set", "true");
  await expect(button).toHaveAccessibleDescription("A system prompt is set");

  await chat.send("Where are we headed, dunlin?");
  await expect(chat.page.locator('[data-role="assistant"]')).toHaveCount(2);
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  expect(systemSeenFor(fakeAnthropic, "dunlin")).toBe(prompt);

  // The prompt is the chat's: after a reload the panel shows it again.
  await chat.open(`/chat/${sessionId}`);
  await settingsButton(chat).click();
  await expect(promptBox(chat)).toHaveValue(prompt);
  // Escape closes without saving what was typed; focus goes back to the button.
  await promptBox(chat).fill("Something else entirely");
  await expect(panel(chat).getByRole("button", { name: "Cancel" })).toBeVisible();
  await chat.page.keyboard.press("Escape");
  await expect(panel(chat)).toBeHidden();
  await expect(settingsButton(chat)).toBeFocused();
  await settingsButton(chat).click();
  await expect(promptBox(chat)).toHaveValue(prompt);
});

test("in a new chat the prompt is kept until the first message, whose reply already receives it", async ({
  chat,
  fakeAnthropic,
}) => {
  await chat.open();
  await settingsButton(chat).click();
  await expect(panel(chat).getByText("from the first message you send")).toBeVisible();
  const prompt = "Reply as a lighthouse keeper would.";
  await promptBox(chat).fill(prompt);
  await panel(chat).getByRole("button", { name: "Save" }).click();
  await expect(panel(chat).getByRole("status")).toHaveText("Saved");
  await chat.page.keyboard.press("Escape");
  await expect(settingsButton(chat)).toHaveAttribute("data-prompt-set", "true");

  await chat.send("The first words of this chat, turnstone");
  await chat.page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  expect(systemSeenFor(fakeAnthropic, "turnstone")).toBe(prompt);
  await settingsButton(chat).click();
  await expect(promptBox(chat)).toHaveValue(prompt);
  await chat.page.keyboard.press("Escape");

  // Used once: the next new chat starts without one.
  await chat.page.getByRole("link", { name: "+ New chat" }).click();
  await expect(settingsButton(chat)).toHaveAttribute("data-prompt-set", "false");
  await chat.send("Another chat, sanderling");
  await chat.page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  expect(systemSeenFor(fakeAnthropic, "sanderling")).toBeUndefined();
});

test("the panel shows the limit the API enforces, and says why when the server refuses a save", async ({ chat }) => {
  const sessionId = await chat.startChat("A chat to be deleted elsewhere");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await settingsButton(chat).click();
  const save = panel(chat).getByRole("button", { name: "Save" });
  // Counted in code points, as the API counts: 8000 emoji fit, one more does not.
  await promptBox(chat).fill("🦉".repeat(8000));
  await expect(panel(chat).getByText("8000 / 8000 characters", { exact: true })).toBeVisible();
  await expect(save).toBeEnabled();
  await promptBox(chat).fill("🦉".repeat(8001));
  await expect(panel(chat).getByText("8001 / 8000 characters — 1 too many")).toBeVisible();
  await expect(promptBox(chat)).toHaveAttribute("aria-invalid", "true");
  await expect(save).toBeDisabled();

  const deleted = await chat.page.request.delete(`${chat.baseUrl}/api/chat/sessions/${sessionId}`);
  expect(deleted.ok()).toBe(true);
  await promptBox(chat).fill("Too late for this chat");
  await save.click();
  await expect(panel(chat).getByRole("alert")).toHaveText("Not saved: That chat does not exist.");
  // The text stays, so nothing typed is lost.
  await expect(promptBox(chat)).toHaveValue("Too late for this chat");
});

test("on a phone the panel fits the screen and its buttons are in reach", async ({ chat }) => {
  await chat.page.setViewportSize(PHONE);
  await chat.startChat("A chat on a small screen");
  await settingsButton(chat).click();
  await expect(promptBox(chat)).toBeFocused();
  const box = await panel(chat).boundingBox();
  expect(box).not.toBeNull();
  expect(box && box.x >= 0 && box.x + box.width <= PHONE.width && box.y >= 0).toBe(true);
  expect(box && box.y + box.height <= PHONE.height).toBe(true);
  for (const name of ["Save", "Close"]) await expect(panel(chat).getByRole("button", { name })).toBeInViewport();
  await panel(chat).getByRole("button", { name: "Close" }).click();
  await expect(settingsButton(chat)).toBeFocused();
});
