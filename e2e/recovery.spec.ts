import { expect, shownWords, test } from "./fixtures";

/** Samples a reply's shown word count while `during` runs: the largest drop seen (0 = it never shrank). */
async function largestDrop(read: () => Promise<number>, during: Promise<unknown>): Promise<number> {
  let last = await read();
  let drop = 0;
  let running = true;
  void during.finally(() => {
    running = false;
  });
  while (running) {
    const now = await read();
    drop = Math.max(drop, last - now);
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return drop;
}

test("a model error mid-reply says it retries, keeps the text, and ends with the whole reply", async ({ chat }) => {
  const sessionId = await chat.startChat("/mock fail=once tokens=150 tps=60\nThis one stumbles once");
  const reply = chat.assistant();
  await expect.poll(async () => ((await reply.locator(".text").textContent()) ?? "").length).toBeGreaterThan(0);
  const messageId = (await reply.getAttribute("data-message-id")) ?? "";
  // Counted in words: rendered Markdown may lose a few characters as a construct completes (the
  // `**` of a bold word, a table's pipes), and an unfinished fence's language word, never more.
  const words = async () => (await shownWords(chat.page, messageId)).split(" ").filter(Boolean).length;
  const notice = reply.locator(".note.retry");
  // Both happen while the text is sampled: the notice shows during the retry, then the reply ends.
  const watched = (async () => {
    await expect(notice).toHaveText("Retrying (2 of 4)…");
    await expect(reply).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  })();
  const drop = await largestDrop(words, watched);
  await watched;
  expect(drop).toBeLessThanOrEqual(2);
  await expect(notice).toHaveCount(0);
  const stored = await chat.storedReply(sessionId, messageId);
  expect(stored.status).toBe("completed");
  expect(await chat.textOf(messageId)).toBe(stored.content);
});
