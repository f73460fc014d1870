import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { type ChatPage, expect, test } from "./fixtures";

const PHONE = { width: 390, height: 760 };
const SCHEMES = ["light", "dark"] as const;
// The mock writes this one as a paragraph, a list, a fenced code block and a table.
const MARKDOWN_QUESTION = "/mock tokens=300 tps=150\nExplain database indexes";

/** Each violation of impact serious or critical, with where it is and how to fix it. */
function describeViolations(violations: Awaited<ReturnType<AxeBuilder["analyze"]>>["violations"]): string {
  return violations
    .map((violation) => {
      const nodes = violation.nodes
        .slice(0, 5)
        .map((node) => `    ${node.target.join(" ")}\n      ${(node.failureSummary ?? "").replace(/\n/g, "\n      ")}`);
      return `${violation.id} (${violation.impact}): ${violation.help}\n  ${violation.helpUrl}\n${nodes.join("\n")}`;
    })
    .join("\n\n");
}

/** Scans the page as it is, in light and in dark, and fails on any serious or critical violation. */
async function expectAccessible(page: Page, screen: string) {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
    const { violations } = await new AxeBuilder({ page }).analyze();
    const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect
      .soft(
        blocking.map((v) => v.id),
        `${screen} (${colorScheme}):\n${describeViolations(blocking)}`,
      )
      .toEqual([]);
  }
}

async function chatWithMarkdownReply(chat: ChatPage) {
  await chat.startChat(MARKDOWN_QUESTION);
  const reply = chat.assistant();
  await expect(reply).toHaveAttribute("data-status", "completed");
  // What the scan must see: the reply's Markdown rendered, with its controls.
  for (const selector of ["pre code", "ul, ol", "table"]) await expect(reply.locator(selector).first()).toBeVisible();
}

test("the new-chat screen has no serious accessibility violation", async ({ chat }) => {
  await chat.open();
  await expectAccessible(chat.page, "new chat");
  // A draft enables Send (a disabled control is not held to the contrast rules).
  await chat.composer.fill("A draft");
  await expectAccessible(chat.page, "new chat with a draft");
});

test("a chat with a streamed Markdown reply has no serious accessibility violation", async ({ chat }) => {
  await chatWithMarkdownReply(chat);
  await chat.composer.fill("A draft");
  await expectAccessible(chat.page, "chat with a reply");
});

test("the phone menu, open, has no serious accessibility violation", async ({ chat }) => {
  await chat.page.setViewportSize(PHONE);
  await chatWithMarkdownReply(chat);
  await expectAccessible(chat.page, "phone chat");
  await chat.page.getByRole("button", { name: "Menu" }).click();
  await expect(chat.page.getByRole("navigation", { name: "Chats" })).toBeVisible();
  await expectAccessible(chat.page, "phone menu open");
});

// axe leaves the colours inside a modal <dialog> as "incomplete" (it cannot place the top layer
// over the page), so this scan checks the panel's names, roles and labels; its colours are the
// tokens the scans above check (--fg, --muted, --accent with --on-accent on --bg).
test("the chat settings panel, open, has no serious accessibility violation", async ({ chat }) => {
  await chat.startChat("/mock tokens=20 tps=200\nA chat with settings");
  await expect(chat.assistant()).toHaveAttribute("data-status", "completed");
  await chat.page.getByRole("button", { name: "Chat settings" }).click();
  const panel = chat.page.getByRole("dialog", { name: "Chat settings" });
  await panel.getByRole("textbox", { name: "System prompt" }).fill("Be brief.");
  await expectAccessible(chat.page, "settings panel with a change");
  await panel.getByRole("button", { name: "Save" }).click();
  await expect(panel.getByRole("status")).toHaveText("Saved");
  await expectAccessible(chat.page, "settings panel, saved");
  await chat.page.setViewportSize(PHONE);
  await expectAccessible(chat.page, "settings panel on a phone");
});

test("the phone menu takes the focus, keeps Tab inside, and gives the focus back to Menu", async ({ chat }) => {
  await chat.page.setViewportSize(PHONE);
  const first = await chat.startChat("/mock tokens=5 tps=100\nFocus chat one");
  await chat.startChat("/mock tokens=5 tps=100\nFocus chat two");
  const menu = chat.page.getByRole("button", { name: "Menu" });
  const chats = chat.page.getByRole("navigation", { name: "Chats" });
  const focusInMenu = () =>
    chats.evaluate((nav) => {
      const active = document.activeElement;
      return nav.contains(active) ? "menu" : active?.getAttribute("aria-label") === "Menu" ? "button" : "elsewhere";
    });

  await menu.click();
  await expect(chats).toBeVisible();
  expect(await focusInMenu()).toBe("menu");
  // Forwards and back, more presses than it has controls: focus never leaves the menu and ☰.
  const seen = new Set<string>();
  for (const key of [...Array(12).fill("Tab"), ...Array(12).fill("Shift+Tab")]) {
    await chat.page.keyboard.press(key);
    const where = await focusInMenu();
    expect(where, `after ${key}`).not.toBe("elsewhere");
    seen.add(where);
  }
  expect([...seen].sort()).toEqual(["button", "menu"]);

  // Closed by Escape, by the backdrop, by choosing a chat with the keyboard: focus is on ☰ again.
  await chats.getByRole("link").first().focus();
  await chat.page.keyboard.press("Escape");
  await expect(chats).toBeHidden();
  await expect(menu).toBeFocused();
  await menu.click();
  await chat.page.locator(".backdrop").click({ position: { x: PHONE.width - 20, y: 300 } });
  await expect(chats).toBeHidden();
  await expect(menu).toBeFocused();
  await menu.press("Enter");
  expect(await focusInMenu()).toBe("menu");
  await chat.page.locator(`[data-session-id="${first}"] a`).press("Enter");
  await chat.page.waitForURL(new RegExp(`/chat/${first}$`));
  await expect(chats).toBeHidden();
  await expect(menu).toBeFocused();
});
