// The checks, per reply, once the run has settled: how it ended in the database, against what the
// run asked for and what an uninterrupted reply says; what every reader that followed it built and
// saw on the way; and whether its session's replies ran one at a time in send order.
import type { Guest, PlannedSession, SentReply } from "./driver";
import type { FaultRecord } from "./faults";
import { within } from "./options";
import type { AnyReader } from "./readers";
import type { EndKind, ReplyView } from "./reply-view";

export interface StoredMessage {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
  status: string;
}

export type ProblemKind =
  | "unsent"
  | "lost"
  | "doubled"
  | "stuck"
  | "wrong_end"
  | "gap"
  | "text_mismatch"
  | "after_end"
  | "stale_attempt"
  | "known_text_reset"
  | "order";

export interface Problem {
  kind: ProblemKind;
  reply: string;
  detail: string;
}

const END_OF_STATUS: Record<string, EndKind> = { completed: "completed", error: "error", cancelled: "cancelled" };

/** Every session's messages as the app stores them, read through the API (retrying an outage's leftovers). */
export async function readStored(sessions: PlannedSession[], guests: Guest[]): Promise<Map<string, StoredMessage>> {
  const stored = new Map<string, StoredMessage>();
  for (const session of sessions) {
    const sessionId = session.replies[0]?.sent?.sessionId;
    const clients = guests[session.guest]?.clients ?? [];
    if (!sessionId) continue;
    for (let tries = 0; tries < 6; tries++) {
      const client = clients[tries % clients.length];
      const reading = client?.json<{ messages: StoredMessage[] }>(`/api/chat/sessions/${sessionId}/messages`);
      const result = reading
        ? await within(
            reading.catch(() => null),
            10_000,
            null,
          )
        : null;
      if (result?.status === 200) {
        for (const message of result.body.messages) stored.set(message.id, message);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  return stored;
}

/** What the run expects a reply to end as: `cancelled` only where its cancel said so. */
function expectedEnds(reply: SentReply): string[] {
  const answer = reply.cancel?.answer;
  if (!reply.cancel || answer === null || answer === undefined) return ["completed"];
  if (answer === "cancelled") return ["cancelled"];
  // The cancel came after the end (its answer is the final status), or its answer never arrived.
  return answer === "unknown" ? ["completed", "cancelled"] : [answer];
}

export function checkReply(
  reply: SentReply,
  readers: AnyReader[],
  stored: Map<string, StoredMessage>,
  faults: FaultRecord,
): Problem[] {
  const problems: Problem[] = [];
  const id = reply.sent?.assistantMessageId ?? `session ${reply.session} message ${reply.position}`;
  const add = (kind: ProblemKind, detail: string) => problems.push({ kind, reply: id, detail });
  if (!reply.sent) {
    add("unsent", reply.sendError ?? "never accepted");
    return problems;
  }
  const message = stored.get(reply.sent.assistantMessageId);
  const siblings = [...stored.values()].filter(
    (m) => m.role === "assistant" && m.parentId === reply.sent?.userMessageId,
  );
  if (siblings.length > 1) add("doubled", `${siblings.length} replies stored for one send`);
  if (!message) add("lost", "no such reply stored");
  else if (message.status === "queued" || message.status === "generating") add("stuck", `stored ${message.status}`);
  else checkStoredEnd(reply, message, add);

  for (const reader of readers) {
    const view = reader.views.get(reply.sent.assistantMessageId);
    if (view) checkView(reader.name, view, message, faults, add);
  }
  return problems;
}

function checkStoredEnd(reply: SentReply, message: StoredMessage, add: (kind: ProblemKind, detail: string) => void) {
  const expected = expectedEnds(reply);
  if (!expected.includes(message.status)) {
    const kind = message.status === "error" || !reply.cancel ? "lost" : "wrong_end";
    add(kind, `ended ${message.status}, expected ${expected.join(" or ")}`);
  }
  // The text: all of the uninterrupted reply when completed, a start of it when stopped.
  const text = message.content;
  const fits = message.status === "cancelled" ? reply.expectedText.startsWith(text) : text === reply.expectedText;
  if (message.status === "error" || fits) return;
  const doubled = text.length > reply.expectedText.length;
  add(
    doubled ? "doubled" : "lost",
    `stored text (${text.length} chars) is not the reply's (${reply.expectedText.length})`,
  );
}

function checkView(
  reader: string,
  view: ReplyView,
  message: StoredMessage | undefined,
  faults: FaultRecord,
  add: (kind: ProblemKind, detail: string) => void,
) {
  for (const anomaly of view.anomalies) {
    const kind = anomaly.kind === "duplicate" ? "doubled" : anomaly.kind;
    add(kind, `${reader}: ${anomaly.detail}`);
  }
  for (const reset of view.resets) {
    if (!reset.hadText || resetAllowed(view.messageId, reset.at, faults)) continue;
    add("known_text_reset", `${reader}: reset to attempt ${reset.attempt} dropped text the app still had`);
  }
  if (!view.end) {
    add("stuck", `${reader}: never saw the end (at seq ${view.seq})`);
    return;
  }
  if (!message) return;
  if (END_OF_STATUS[message.status] !== view.end.kind) {
    add("text_mismatch", `${reader}: saw ${view.end.kind}, stored ${message.status}`);
  }
  if (view.text !== message.content) {
    add("text_mismatch", `${reader}: built ${view.text.length} chars, stored ${message.content.length}`);
  }
}

/**
 * A reset may drop text only when the app could not know it: the reply was running when Redis lost
 * its data, and neither the database nor the status endpoint had its text then.
 */
function resetAllowed(messageId: string, at: number, faults: FaultRecord): boolean {
  if (faults.redisDownAt === null || at < faults.redisDownAt) return false;
  return !faults.knownAtRedisLoss.has(messageId);
}

/** Each session's replies ran one at a time: every chunk of one was written before any of the next. */
export function checkOrder(session: PlannedSession, readers: AnyReader[]): Problem[] {
  const problems: Problem[] = [];
  const spans = session.replies.map((reply) => spanOf(reply, readers));
  for (let index = 1; index < spans.length; index++) {
    const before = spans[index - 1];
    const after = spans[index];
    if (!before || !after || before.last === null || after.first === null) continue;
    if (after.first < before.last) {
      problems.push({
        kind: "order",
        reply: after.id,
        detail: `its first chunk was written ${before.last - after.first} ms before the previous reply's last`,
      });
    }
  }
  return problems;
}

function spanOf(reply: SentReply, readers: AnyReader[]) {
  const id = reply.sent?.assistantMessageId ?? "";
  let first: number | null = null;
  let last: number | null = null;
  for (const reader of readers) {
    for (const chunk of reader.views.get(id)?.chunks ?? []) {
      first = first === null ? chunk.ts : Math.min(first, chunk.ts);
      last = last === null ? chunk.ts : Math.max(last, chunk.ts);
    }
  }
  return { id, first, last };
}
