import "server-only";
import { z } from "zod";
import type { SendAccepted } from "../contract";
import {
  countRunningRepliesByUser,
  createTurn,
  getSessionById,
  getTurnByClientMessageId,
  type TurnIds,
} from "../db/queries";
import { env } from "../env";
import { AppError } from "../errors";
import { describeError, log } from "../log";
import { getReplyLifecycle } from "../replies/index";
import { getRateLimiter } from "./rate-limit";
import { sessionNotFound } from "./sessions";

export const sendMessageSchema = z.object({
  sessionId: z.uuid().optional(),
  content: z.string().refine((text) => text.trim().length > 0, "must not be empty"),
  clientMessageId: z.uuid(),
});
export type SendMessageInput = z.infer<typeof sendMessageSchema>;

function resultOf(turn: TurnIds): SendAccepted {
  return {
    sessionId: turn.sessionId,
    userMessageId: turn.userMessageId,
    assistantMessageId: turn.assistantMessageId,
    status: "queued",
    streamUrl: `/api/chat/stream/${turn.sessionId}`,
    statusUrl: `/api/chat/status/${turn.sessionId}/${turn.assistantMessageId}`,
    correlationId: turn.correlationId,
  };
}

/** The first line of the message (the first after a `/mock` knob line), at most 60 code points. */
export function titleFrom(content: string): string {
  const lines = content.trim().split("\n");
  const first = lines[0]?.startsWith("/mock") && lines.length > 1 ? lines.slice(1).find((l) => l.trim()) : lines[0];
  const firstLine = first?.replace(/\s+/g, " ").trim() ?? "";
  const points = [...firstLine];
  return points.length > 60 ? `${points.slice(0, 59).join("")}…` : firstLine || "New chat";
}

/** Stores the message, queues its reply and announces it. Idempotent per (user, clientMessageId). */
export async function sendMessage(
  userId: string,
  input: SendMessageInput,
  correlationId: string,
): Promise<SendAccepted> {
  const config = env();
  const tooLong = [...input.content].length > config.MAX_MESSAGE_CHARS;
  const rateKey = `sends:${userId}`;
  // The send is counted beside the lookups (and given back if it turns out not to count): one
  // round trip's wait for all four, not two.
  const limiter = getRateLimiter();
  const counted = tooLong ? null : limiter.hit(rateKey, config.RATE_LIMIT_SENDS_PER_MINUTE, 60_000);
  const [repeat, sessionExists, running] = await Promise.all([
    getTurnByClientMessageId({ userId, clientMessageId: input.clientMessageId }),
    input.sessionId ? getSessionById({ id: input.sessionId, userId }).then(Boolean) : true,
    countRunningRepliesByUser({ userId }),
    counted,
  ]);
  // A repeat stores nothing new and a 404 nothing at all: neither counts.
  if (counted && (repeat || !sessionExists)) await limiter.refund(rateKey);
  if (repeat) {
    // The first try may have stored the message but failed to queue it (503): queue it now.
    if (repeat.replyStatus === "queued") await announceAndEnqueue(userId, repeat);
    return resultOf(repeat);
  }
  if (!sessionExists) throw sessionNotFound();
  // A message too long was never counted.
  if (tooLong || !counted) {
    throw new AppError(413, "message_too_long", `A message may have at most ${config.MAX_MESSAGE_CHARS} characters.`);
  }
  const rate = await counted;
  if (!rate.allowed) {
    throw new AppError(429, "rate_limited", "You are sending messages too fast. Please wait a moment.", {
      headers: { "Retry-After": String(rate.retryAfterSeconds) },
    });
  }
  if (running >= config.MAX_RUNNING_REPLIES_PER_USER) {
    throw new AppError(
      429,
      "rate_limited",
      "Too many replies are being written at once. Please wait for one to finish.",
      {
        headers: { "Retry-After": "5" },
      },
    );
  }
  const turn =
    (await createTurn({
      userId,
      sessionId: input.sessionId ?? null,
      title: titleFrom(input.content),
      content: input.content,
      clientMessageId: input.clientMessageId,
      correlationId,
    })) ?? (await getTurnByClientMessageId({ userId, clientMessageId: input.clientMessageId }));
  if (!turn) throw new Error("turn vanished after a unique violation");
  await announceAndEnqueue(userId, turn);
  log.info("message accepted", {
    correlationId: turn.correlationId,
    sessionId: turn.sessionId,
    messageId: turn.assistantMessageId,
  });
  return resultOf(turn);
}

async function announceAndEnqueue(userId: string, turn: TurnIds) {
  const reply = { id: turn.assistantMessageId, sessionId: turn.sessionId, userId, correlationId: turn.correlationId };
  try {
    await (await getReplyLifecycle()).queue(reply);
  } catch (error) {
    // The message is stored; sending the same clientMessageId again enqueues it then.
    log.error("enqueue failed", { correlationId: turn.correlationId, error: describeError(error) });
    throw new AppError(503, "queue_unavailable", "Replies cannot be queued right now. Please try again shortly.", {
      headers: { "Retry-After": "5" },
      cause: error,
    });
  }
}
