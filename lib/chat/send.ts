import "server-only";
import { z } from "zod";
import type { SendAccepted } from "../contract";
import {
  createRegeneration,
  createTurn,
  getSessionById,
  getTurnByClientMessageId,
  isMessageOfSession,
  RunningCapReached,
  type TurnIds,
  UserGone,
} from "../db/queries";
import { env } from "../env";
import { AppError } from "../errors";
import { listModels, llmConfigFromEnv, resolveModel } from "../llm";
import { addLogContext, describeError, log } from "../log";
import { getReplyLifecycle } from "../replies/index";
import { traceEnqueue } from "../tracing/index";
import { getRateLimiter } from "./rate-limit";
import { sessionNotFound, systemPromptSchema } from "./sessions";

const noNul = (text: string) => !text.includes("\u0000");

export const sendMessageSchema = z
  .object({
    sessionId: z.uuid().optional(),
    content: z
      .string()
      .refine((text) => text.trim().length > 0, "must not be empty")
      .refine(noNul, "must not contain a NUL character"),
    clientMessageId: z.uuid(),
    /** An edit: the parent of the message it replaces (null: a new first message). Default: the visible branch's end. */
    parentMessageId: z.uuid().nullable().optional(),
    model: z.string().min(1).max(200).optional(),
    /**
     * A new chat's system prompt, so its first reply already receives it ("" or null: none). A chat
     * that exists changes its prompt with PATCH: the send would otherwise race the reply it queues.
     */
    systemPrompt: systemPromptSchema.nullable().optional(),
  })
  .refine((body) => !(body.sessionId && body.systemPrompt !== undefined), {
    path: ["systemPrompt"],
    message: "is only for a new chat (no sessionId); change a chat's prompt with PATCH",
  });
export type SendMessageInput = z.infer<typeof sendMessageSchema>;

export const regenerateSchema = z.object({
  clientMessageId: z.uuid(),
  model: z.string().min(1).max(200).optional(),
});
export type RegenerateInput = z.infer<typeof regenerateSchema>;

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
  /** The client's address (lib/http/client-address.ts), for the limit per address. */
  address: string,
): Promise<SendAccepted> {
  const config = env();
  // A 400 like the body's own checks: before anything is looked up or counted.
  const model = chosenModel(input.model);
  const tooLong = [...input.content].length > config.MAX_MESSAGE_CHARS;
  const admission = admit(userId, address, !tooLong);
  const { sessionId, parentMessageId } = input;
  const [repeat, sessionExists, parentFound] = await Promise.all([
    getTurnByClientMessageId({ userId, clientMessageId: input.clientMessageId }),
    sessionId ? getSessionById({ id: sessionId, userId }).then(Boolean) : true,
    // An edit's parent must be a message of the same chat.
    sessionId && parentMessageId ? isMessageOfSession({ messageId: parentMessageId, sessionId }) : true,
  ]);
  if (repeat) {
    // A repeat stores nothing new and does not count. The first try may have stored the message
    // but failed to queue it (503): queue it now.
    await admission.refund();
    if (repeat.replyStatus === "queued") await announceAndEnqueue(userId, repeat);
    return resultOf(repeat);
  }
  if (!sessionExists) {
    await admission.refund();
    throw sessionNotFound();
  }
  if (!parentFound || (!sessionId && parentMessageId)) {
    await admission.refund();
    throw new AppError(400, "invalid_request", "The message to branch from is not in this chat.", {
      fields: { parentMessageId: "is not a message of this chat" },
    });
  }
  // A message too long was never counted.
  if (tooLong) {
    throw new AppError(413, "message_too_long", `A message may have at most ${config.MAX_MESSAGE_CHARS} characters.`);
  }
  await admission.check();
  const turn =
    (await admission.store(() =>
      createTurn({
        userId,
        sessionId: sessionId ?? null,
        title: titleFrom(input.content),
        content: input.content,
        clientMessageId: input.clientMessageId,
        correlationId,
        ...(parentMessageId !== undefined ? { parentId: parentMessageId } : {}),
        model,
        systemPrompt: input.systemPrompt?.trim() || null,
        runningCap: admission.runningCap,
      }),
    )) ?? (await getTurnByClientMessageId({ userId, clientMessageId: input.clientMessageId }));
  if (!turn) throw new Error("turn vanished after a unique violation");
  await announceAndEnqueue(userId, turn);
  log.info("message accepted", {
    correlationId: turn.correlationId,
    sessionId: turn.sessionId,
    messageId: turn.assistantMessageId,
  });
  return resultOf(turn);
}

/**
 * A new reply to a user message, beside its earlier ones; it becomes the visible branch. Idempotent
 * per (user, clientMessageId) and counted by the same limits as a send.
 */
export async function regenerateReply(
  userId: string,
  sessionId: string,
  userMessageId: string,
  input: RegenerateInput,
  correlationId: string,
  address: string,
): Promise<SendAccepted> {
  const model = chosenModel(input.model);
  const admission = admit(userId, address, true);
  const [repeat, sessionExists] = await Promise.all([
    getTurnByClientMessageId({ userId, clientMessageId: input.clientMessageId }),
    getSessionById({ id: sessionId, userId }).then(Boolean),
  ]);
  if (!sessionExists) {
    await admission.refund();
    throw sessionNotFound();
  }
  if (repeat) {
    await admission.refund();
    if (repeat.replyStatus === "queued") await announceAndEnqueue(userId, repeat);
    return resultOf(repeat);
  }
  await admission.check();
  const turn =
    (await admission.store(() =>
      createRegeneration({
        userId,
        sessionId,
        userMessageId,
        clientMessageId: input.clientMessageId,
        correlationId,
        model,
        runningCap: admission.runningCap,
      }),
    )) ?? (await getTurnByClientMessageId({ userId, clientMessageId: input.clientMessageId }));
  if (!turn) {
    await admission.refund();
    throw new AppError(404, "message_not_found", "That message does not exist.");
  }
  await announceAndEnqueue(userId, turn);
  log.info("reply regenerated", { correlationId, sessionId, messageId: turn.assistantMessageId });
  return resultOf(turn);
}

/** The model a new reply is asked of: the one named (one of GET /api/models, else 400), or the default. */
const modelsByEnv = new WeakMap<object, ReturnType<typeof listModels>>();

function chosenModel(id: string | undefined): string {
  // Listed once per environment, not on every send.
  const config = env();
  let models = modelsByEnv.get(config);
  if (!models) {
    models = listModels(llmConfigFromEnv(config));
    modelsByEnv.set(config, models);
  }
  const model = resolveModel({ models: () => models }, id);
  if (!model) {
    throw new AppError(400, "invalid_request", "That model is not served here.", {
      fields: { model: `must be one of ${models.map((m) => m.id).join(", ")}` },
    });
  }
  return model;
}

/**
 * The limits every new reply passes: sends per minute, counted now (beside the caller's lookups:
 * one round trip's wait for all) and given back when the request turns out not to count; and the
 * user's running replies, checked by the database in the statement that stores the turn
 * (`store`), so that sends made at once cannot pass it together.
 */
function admit(userId: string, address: string, counts: boolean) {
  const config = env();
  const limiter = getRateLimiter();
  // Per user, and per client address for one client that makes many users.
  const limits = [
    { key: `sends:${userId}`, limit: config.RATE_LIMIT_SENDS_PER_MINUTE },
    { key: `sends-from:${address}`, limit: config.RATE_LIMIT_SENDS_PER_ADDRESS_PER_MINUTE },
  ];
  const counted = counts ? limits.map(({ key, limit }) => limiter.hit(key, limit, 60_000)) : [];
  // Awaited later; a rejection must not go unhandled meanwhile.
  for (const hit of counted) hit.catch(() => {});
  const refund = async () => {
    await Promise.all(
      counted.map(async (hit, index) => {
        const key = limits[index]?.key;
        if (key && (await hit.catch(() => null))) await limiter.refund(key);
      }),
    );
  };
  return {
    refund,
    check: async () => {
      const decisions = await Promise.all(counted);
      const refused = decisions.find((decision) => !decision.allowed);
      if (refused) {
        // A refused send does not count against the other limit either.
        await refund();
        throw new AppError(429, "rate_limited", "You are sending messages too fast. Please wait a moment.", {
          headers: { "Retry-After": String(refused.retryAfterSeconds) },
        });
      }
    },
    runningCap: config.MAX_RUNNING_REPLIES_PER_USER,
    /** Runs the store of the turn; at the running cap, gives the hit back and answers 429. */
    store: async <T>(insert: () => Promise<T>): Promise<T> => {
      try {
        return await insert();
      } catch (error) {
        if (error instanceof UserGone) {
          await refund();
          throw new AppError(401, "unauthorized", "This guest account has expired. Please sign in again.");
        }
        if (!(error instanceof RunningCapReached)) throw error;
        await refund();
        throw new AppError(
          429,
          "rate_limited",
          "Too many replies are being written at once. Please wait for one to finish.",
          { headers: { "Retry-After": "5" } },
        );
      }
    },
  };
}

async function announceAndEnqueue(userId: string, turn: TurnIds) {
  const reply = { id: turn.assistantMessageId, sessionId: turn.sessionId, userId, correlationId: turn.correlationId };
  // From here on the request's lines name the chat and the reply it made.
  addLogContext({ sessionId: turn.sessionId, messageId: turn.assistantMessageId });
  try {
    await traceEnqueue(reply, async () => (await getReplyLifecycle()).queue(reply));
  } catch (error) {
    // The message is stored; sending the same clientMessageId again enqueues it then.
    log.error("enqueue failed", { correlationId: turn.correlationId, error: describeError(error) });
    throw new AppError(503, "queue_unavailable", "Replies cannot be queued right now. Please try again shortly.", {
      headers: { "Retry-After": "5" },
      cause: error,
    });
  }
}
