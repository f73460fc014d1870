import { expect } from "vitest";

// Reads samples out of Prometheus text: `sample(text, 'name{label="v"}')` is the value of that
// exact series (labels as the registry writes them, in its order), undefined when it is absent.
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

export async function scrape(url: string, token?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, text: await response.text() };
}

/** Scrapes `url` until `ready` holds of its text (or 10 s went by) and returns the last text. */
export async function scrapeWhen(url: string, token: string | undefined, ready: (text: string) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { text } = await scrape(url, token);
    if (ready(text) || Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Once the reply is counted done: a worker's registry after exactly one finished reply. */
export const oneReplyDone = (text: string) => sample(text, 'backchannel_replies_total{status="done"}') === 1;

/** The series a worker's registry holds after one reply that finished, and nothing running or waiting. */
export function expectOneFinishedReply(text: string) {
  expect(sample(text, 'backchannel_replies_total{status="done"}')).toBe(1);
  expect(sample(text, 'backchannel_model_tokens_total{direction="output"}')).toBeGreaterThan(0);
  expect(sample(text, "backchannel_queue_wait_seconds_count")).toBe(1);
  expect(sample(text, "backchannel_model_first_token_seconds_count")).toBe(1);
  expect(sample(text, 'backchannel_model_call_seconds_count{outcome="completed"}')).toBe(1);
  expect(sample(text, "backchannel_worker_running_replies")).toBe(0);
  expect(sample(text, 'backchannel_queue_jobs{state="waiting"}')).toBe(0);
  expect(sample(text, "backchannel_queue_oldest_waiting_seconds")).toBe(0);
}
