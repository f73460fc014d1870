import { expect, test } from "./fixtures";

// The Redis mode only: the worker is its own process, which these tests kill and start again.

test("a worker killed mid-reply: the bubble says it resumes, the text never vanishes, the whole reply arrives", async ({
  chat,
  app,
}) => {
  const sessionId = await chat.startChat("/mock tokens=400 tps=40\nA long one, cut off by a crash");
  const reply = chat.assistant();
  const length = async () => ((await reply.locator(".text").textContent()) ?? "").length;
  await expect.poll(length).toBeGreaterThan(60);
  const before = await length();
  await app.killWorker("SIGKILL");
  await app.startWorker();
  await expect(reply.locator(".note.retry")).toHaveText("Resuming after a restart…", { timeout: 20_000 });
  // The kept text stayed on screen through the takeover.
  expect(await length()).toBeGreaterThanOrEqual(before);
  await expect(reply).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(reply.locator(".note.retry")).toHaveCount(0);
  const messageId = (await reply.getAttribute("data-message-id")) ?? "";
  const stored = await chat.storedReply(sessionId, messageId);
  expect(await chat.textOf(messageId)).toBe(stored.content);
  expect(stored.raw.length).toBeGreaterThan(before);
});

test("with no worker running, a reply says it waits for one, and is written once a worker starts", async ({
  chat,
  app,
}) => {
  await chat.open();
  await app.killWorker("SIGKILL");
  try {
    await chat.send("/mock tokens=40 tps=200\nIs anybody there?");
    await chat.page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
    const reply = chat.assistant();
    await expect(reply.locator(".note.waiting")).toContainText("Waiting for a worker", { timeout: 20_000 });
    await expect(reply).toHaveAttribute("data-status", "queued");
    await app.startWorker();
    await expect(reply).toHaveAttribute("data-status", "completed", { timeout: 30_000 });
    await expect(reply.locator(".note.waiting")).toHaveCount(0);
  } finally {
    // The next test needs a worker, whatever happened here.
    if (!app.pids().worker) await app.startWorker();
  }
});
