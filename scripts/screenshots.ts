// `npm run screenshots`: the main screens as a person sees them (light, dark, phone), written to
// docs/screenshots/. Starts the built app in the embedded mode (run `next build` first), or uses
// BASE_URL if it is set.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Page } from "@playwright/test";
import { CHROMIUM_LAUNCH } from "../e2e/chromium";
import { startApp } from "../tests/support/app";

const OUT = path.resolve(import.meta.dirname, "../docs/screenshots");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 760 };

/** Sends in the open chat (a new one if `fresh`) and waits until its reply is complete. */
async function chat(page: Page, baseUrl: string, text: string, fresh = true) {
  if (fresh) await page.goto(`${baseUrl}/`);
  await page.locator('[data-connection="connected"]').waitFor();
  const done = page.locator('[data-role="assistant"][data-status="completed"]');
  const before = await done.count();
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
  await done.nth(before).waitFor({ timeout: 30_000 });
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const app = process.env.BASE_URL ? null : await startApp("embedded");
  const baseUrl = process.env.BASE_URL ?? app?.baseUrl ?? "";
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  try {
    const context = await browser.newContext({ viewport: DESKTOP, reducedMotion: "reduce" });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/`);
    await page.locator('[data-connection="connected"]').waitFor();
    await page.screenshot({ path: path.join(OUT, "empty.png") });
    await chat(page, baseUrl, "/mock tokens=40 tps=400\nPlan a weekend in Lisbon");
    await chat(page, baseUrl, "/mock tokens=120 tps=400\nWrite a Python function that reverses a list");
    await chat(page, baseUrl, "/mock tokens=60 tps=400\nWhat is a database index?");
    await chat(page, baseUrl, "/mock tokens=300 tps=400\nExplain database indexes with an example", false);
    await page.locator('[data-role="assistant"]').last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, "desktop-light.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(OUT, "desktop-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });

    await page.getByRole("button", { name: "Chat settings" }).click();
    await page.getByRole("textbox", { name: "System prompt" }).fill("Answer briefly, in plain words.");
    await page.screenshot({ path: path.join(OUT, "settings.png") });
    await page.keyboard.press("Escape");

    await page.setViewportSize(PHONE);
    await page.screenshot({ path: path.join(OUT, "phone.png") });
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("navigation", { name: "Chats" }).waitFor();
    await page.screenshot({ path: path.join(OUT, "phone-menu.png") });
    await page.keyboard.press("Escape");
    await page.setViewportSize(DESKTOP);
    await page.getByRole("searchbox", { name: "Search chats" }).fill("index");
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(OUT, "search.png") });
    await context.close();
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    await app?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
