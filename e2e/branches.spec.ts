import { expect, test } from "./fixtures";

test("regenerate adds a version with a switcher and no second question; the chosen one survives a reload", async ({
  chat,
}) => {
  const sessionId = await chat.startChat("/mock tokens=20 tps=200\nExplain branches");
  const first = chat.assistant();
  await expect(first).toHaveAttribute("data-status", "completed");
  const firstId = (await first.getAttribute("data-message-id")) ?? "";
  const questionId = (await chat.page.locator('[data-role="user"]').getAttribute("data-message-id")) ?? "";
  await expect(first).toHaveAttribute("data-parent-id", questionId);
  await first.getByRole("button", { name: "Regenerate" }).click();

  const second = chat.assistant();
  await expect(second).not.toHaveAttribute("data-message-id", firstId);
  await expect(second).toHaveAttribute("data-status", "completed");
  await expect(second).toHaveAttribute("data-parent-id", questionId);
  await expect(second.locator(".version-count")).toHaveText("2 / 2");
  // One question, one reply on screen: the versions replace each other.
  await expect(chat.page.locator('[data-role="user"]')).toHaveCount(1);
  await expect(chat.page.locator('[data-role="assistant"]')).toHaveCount(1);

  await second.getByRole("button", { name: "Previous version" }).click();
  await expect(chat.assistant()).toHaveAttribute("data-message-id", firstId);
  await expect(chat.assistant().locator(".version-count")).toHaveText("1 / 2");
  // The server keeps the choice: a reload (and any other tab) shows the same version.
  await expect
    .poll(async () => {
      const response = await chat.page.request.get(`${chat.baseUrl}/api/chat/sessions/${sessionId}/messages`);
      return ((await response.json()) as { activeLeafId: string }).activeLeafId;
    })
    .toBe(firstId);
  await chat.page.reload();
  await expect(chat.assistant()).toHaveAttribute("data-message-id", firstId);
  await expect(chat.assistant().locator(".version-count")).toHaveText("1 / 2");

  // The next question follows the chosen version.
  await chat.send("/mock tokens=10 tps=200\nAnd then?");
  await expect(chat.page.locator('[data-role="user"]')).toHaveCount(2);
  await expect(chat.page.locator('[data-role="user"]').last()).toHaveAttribute("data-parent-id", firstId);
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
});

test("Retry on a failed reply writes a new version of it, without asking the question twice", async ({ chat }) => {
  await chat.startChat("/mock fail=always tokens=20 tps=400\nThis fails every time");
  const failed = chat.assistant();
  await expect(failed).toHaveAttribute("data-status", "error", { timeout: 30_000 });
  const failedId = (await failed.getAttribute("data-message-id")) ?? "";
  await failed.getByRole("button", { name: "Retry" }).click();
  await expect(chat.assistant()).not.toHaveAttribute("data-message-id", failedId);
  await expect(chat.assistant().locator(".version-count")).toHaveText("2 / 2");
  await expect(chat.page.locator('[data-role="user"]')).toHaveCount(1);
  await expect(chat.assistant()).toHaveAttribute("data-status", "error", { timeout: 30_000 });
});

test("Edit sends the new text beside the old message, with its own reply, and the versions switch back", async ({
  chat,
}) => {
  await chat.startChat("/mock tokens=12 tps=200\nFirst question");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await chat.send("/mock tokens=12 tps=200\nA follow-up with a typo");
  await expect(chat.page.locator('[data-role="user"]')).toHaveCount(2);
  await expect(chat.page.locator('[data-role="assistant"]')).toHaveCount(2);
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const original = chat.page.locator('[data-role="user"]').last();
  // The server's id, not the one the page showed until the send was answered.
  await expect(original).not.toHaveAttribute("data-message-id", /^pending:/);
  const originalId = (await original.getAttribute("data-message-id")) ?? "";
  const parentId = (await original.getAttribute("data-parent-id")) ?? "";

  await original.getByRole("button", { name: "Edit" }).click();
  const editor = chat.page.getByRole("textbox", { name: "Edit message" });
  await editor.fill("/mock tokens=12 tps=200\nA follow-up, spelled right");
  await chat.page.getByRole("button", { name: "Send edit" }).click();

  const edited = chat.page.locator('[data-role="user"]').last();
  await expect(edited).not.toHaveAttribute("data-message-id", originalId);
  await expect(edited).toHaveAttribute("data-parent-id", parentId);
  await expect(edited).toContainText("spelled right");
  await expect(edited.locator(".version-count")).toHaveText("2 / 2");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await expect(chat.page.locator('[data-role="user"]')).toHaveCount(2);

  await edited.getByRole("button", { name: "Previous version" }).click();
  await expect(chat.page.locator('[data-role="user"]').last()).toHaveAttribute("data-message-id", originalId);
  await expect(chat.page.locator('[data-role="user"]').last()).toContainText("typo");
});

test("the model picker's choice is stored with the reply, and remembered for the next send", async ({ chat }) => {
  await chat.open();
  const picker = chat.page.getByRole("combobox", { name: "Model" });
  await expect(picker).toBeVisible();
  await picker.selectOption({ label: "Mock (thorough)" });
  await chat.send("/mock tokens=12 tps=200\nWhich model are you?");
  await chat.page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  const sessionId = chat.page.url().split("/").at(-1) ?? "";
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  const listed = async () => {
    const response = await chat.page.request.get(`${chat.baseUrl}/api/chat/sessions/${sessionId}/messages`);
    return ((await response.json()) as { messages: Array<{ role: string; model?: string }> }).messages;
  };
  expect((await listed()).find((m) => m.role === "assistant")?.model).toBe("mock-2");
  await chat.page.reload();
  await expect(chat.page.getByRole("combobox", { name: "Model" })).toHaveValue("mock-2");
});
