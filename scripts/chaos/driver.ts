// The run's guests and what they send: sessions of one to three messages sent in a row, spread over
// the send window, each a long paced mock reply; a few are stopped mid-reply. Sends and cancels
// retry like a client does through an outage (same clientMessageId, the other web process).
import { randomUUID } from "node:crypto";
import { parseMockKnobs } from "../../lib/llm/mock-knobs";
import { mockReplyTokens } from "../../lib/llm/mock-text";
import { ApiClient, type SendBody } from "../../tests/support/client";
import { between, type Random, type RunOptions, sleep, within } from "./options";
import { type RunState, type SessionReader, UserReader } from "./readers";

export interface Guest {
  index: number;
  /** One client per web process, sharing the guest's cookie. */
  clients: ApiClient[];
  reader: UserReader;
}

export interface SentReply {
  guest: number;
  session: number;
  /** Its place among its session's sends (0 first). */
  position: number;
  content: string;
  /** The text an uninterrupted reply has (the mock model is deterministic). */
  expectedText: string;
  clientMessageId: string;
  sent?: SendBody;
  acceptedAt?: number;
  sendError?: string;
  /** Set for replies the run stops: the cancel's answer (`cancelled`, a final status, or `unknown`). */
  cancel?: { answer: string | null };
}

export interface PlannedSession {
  guest: number;
  index: number;
  sendAt: number;
  replies: SentReply[];
  reader: SessionReader | null;
}

const WORDS = "lantern orchard harbor meadow compass window garden letter thread bridge river signal".split(" ");
const GIVE_UP_MS = 60_000;
const REQUEST_MS = 15_000;

export async function signInGuests(baseUrls: string[], options: RunOptions, random: Random, run: RunState) {
  const guests: Guest[] = [];
  for (let index = 0; index < options.guests; index++) {
    const first = await ApiClient.guest(baseUrls[index % baseUrls.length] ?? "");
    const clients = baseUrls.map((url) => ApiClient.withCookie(url, first.cookie));
    guests.push({ index, clients, reader: new UserReader(`user-${index}`, clients, random, options.cutAfterMs, run) });
  }
  return guests;
}

export function planSessions(options: RunOptions, random: Random): PlannedSession[] {
  const sessions: PlannedSession[] = [];
  let left = options.replies;
  while (left > 0) {
    const size = Math.min(left, [1, 2, 2, 3][between(random, 0, 3)] ?? 1);
    const index = sessions.length;
    const guest = index % options.guests;
    const replies = Array.from({ length: size }, (_, position) => {
      const tokens = between(random, options.tokens.min, options.tokens.max);
      const words = Array.from({ length: 6 }, () => WORDS[between(random, 0, WORDS.length - 1)]).join(" ");
      const content = `/mock tokens=${tokens} tps=${options.tokens.tps} ttft=100\nchaos ${options.seed} session ${index} message ${position}: ${words}`;
      const expectedText = mockReplyTokens(content, parseMockKnobs(content).tokens).join("");
      const reply: SentReply = {
        guest,
        session: index,
        position,
        content,
        expectedText,
        clientMessageId: randomUUID(),
      };
      // About one reply in eight is stopped mid-way.
      if (random() < 0.125) reply.cancel = { answer: null };
      return reply;
    });
    sessions.push({ guest, index, sendAt: between(random, 0, options.sendWindowMs), replies, reader: null });
    left -= size;
  }
  return sessions;
}

/** Sends a session's messages one after another, each once accepted, and tells the readers. */
export async function sendSession(
  session: PlannedSession,
  guest: Guest,
  startedAt: number,
  makeReader: (sessionId: string) => SessionReader | null,
): Promise<void> {
  await sleep(Math.max(0, startedAt + session.sendAt - Date.now()));
  let sessionId: string | undefined;
  for (const reply of session.replies) {
    const sent = await sendOnce(guest, reply, sessionId);
    if (!sent) return; // the next sends need this one's session; they count as unsent
    sessionId = sent.sessionId;
    session.reader ??= makeReader(sent.sessionId);
    guest.reader.expect(sent.assistantMessageId, sent.sessionId);
    session.reader?.expect(sent.assistantMessageId, sent.sessionId);
  }
}

async function sendOnce(guest: Guest, reply: SentReply, sessionId: string | undefined): Promise<SendBody | null> {
  const body = JSON.stringify({ content: reply.content, clientMessageId: reply.clientMessageId, sessionId });
  const outcome = await retrying(guest, "/api/chat/messages", body, (status) => status === 202);
  if (outcome.status !== 202) {
    reply.sendError = outcome.error;
    return null;
  }
  reply.sent = outcome.body as SendBody;
  reply.acceptedAt = Date.now();
  return reply.sent;
}

/** Stops the reply a moment after its first chunk reached the guest's reader. */
export async function cancelWhenStreaming(guest: Guest, reply: SentReply, random: Random): Promise<void> {
  const sent = reply.sent;
  if (!reply.cancel || !sent) return;
  const deadline = Date.now() + GIVE_UP_MS;
  while ((guest.reader.views.get(sent.assistantMessageId)?.seq ?? 0) === 0 && Date.now() < deadline) await sleep(100);
  await sleep(between(random, 300, 2_500));
  const path = `/api/chat/cancel/${sent.sessionId}/${sent.assistantMessageId}`;
  const outcome = await retrying(guest, path, "{}", (status) => status === 202);
  const answer = (outcome.body as { status?: unknown } | null)?.status;
  reply.cancel.answer = outcome.status === 202 && typeof answer === "string" ? answer : "unknown";
}

/**
 * POSTs until `accepted`, alternating web processes: through a killed web, a Redis or Postgres
 * outage (503, refused or reset connections), and 429s with their Retry-After. Gives up after a minute.
 */
async function retrying(guest: Guest, path: string, body: string, accepted: (status: number) => boolean) {
  const deadline = Date.now() + GIVE_UP_MS;
  let last = { status: 0, body: null as unknown, error: "" };
  for (let turn = 0; Date.now() < deadline; turn++) {
    const client = guest.clients[turn % guest.clients.length];
    if (!client) break;
    try {
      const signal = AbortSignal.timeout(REQUEST_MS);
      const result = await within(client.json(path, { method: "POST", body, signal }), REQUEST_MS, null);
      if (!result) throw new Error(`no answer in ${REQUEST_MS} ms`);
      last = { status: result.status, body: result.body, error: `${result.status} ${JSON.stringify(result.body)}` };
      if (accepted(result.status)) return last;
      const retryable = result.status >= 500 || result.status === 429;
      if (!retryable) return last;
      const retryAfter = Number(result.headers.get("retry-after") ?? 0);
      await sleep(Math.min(5_000, retryAfter * 1_000) || 300);
    } catch (error) {
      last = { status: 0, body: null, error: String(error) };
      await sleep(300);
    }
  }
  return last;
}
