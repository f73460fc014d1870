import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

// A local stand-in for POST /v1/messages with `stream: true`, speaking the real SSE wire format,
// so the provider is tested through the real SDK and real HTTP. The last user message picks the
// behaviour with a word `scenario:<name>`: text (default), error-midstream, 429, 529, 400, 401, slow,
// and cut (the stream ends cleanly but before message_stop, as a dropped proxy connection can).
// A final assistant turn is a prefill, as in the real API: one that ends in whitespace is a 400,
// and the reply continues the fake text after it (and error-midstream then fails no more).

export const FAKE_REPLY_DELTAS = ["Hello", " from the", " fake", " Anthropic", " server."] as const;
export const FAKE_REPLY = FAKE_REPLY_DELTAS.join("");
export const FAKE_USAGE = { inputTokens: 42, outputTokens: 17 } as const;

export interface FakeRequest {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeAnthropic {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

const HTTP_ERRORS: Record<string, { status: number; type: string; headers?: Record<string, string> }> = {
  "429": { status: 429, type: "rate_limit_error", headers: { "retry-after": "2" } },
  "529": { status: 529, type: "overloaded_error" },
  "400": { status: 400, type: "invalid_request_error" },
  "401": { status: 401, type: "authentication_error" },
};

function sendEvent(res: ServerResponse, type: string, data: object): void {
  if (!res.writableEnded && !res.destroyed) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

function sendJsonError(res: ServerResponse, status: number, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": "req_fake", ...headers });
  res.end(JSON.stringify({ type: "error", error: { type, message: `Fake ${type}` } }));
}

/** The text of the last user turn, whether `content` is a string or a list of text blocks. */
function lastUserText(body: unknown): string {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return "";
  const last = messages.filter((turn) => (turn as { role?: unknown })?.role === "user").at(-1) as
    | { content?: unknown }
    | undefined;
  if (typeof last?.content === "string") return last.content;
  if (!Array.isArray(last?.content)) return "";
  return last.content.map((block) => String((block as { text?: unknown })?.text ?? "")).join("");
}

/** Like the real API: turns must alternate user/assistant, starting with the user. */
function rolesAlternate(body: unknown): boolean {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  return messages.every(
    (turn, index) => (turn as { role?: unknown })?.role === (index % 2 === 0 ? "user" : "assistant"),
  );
}

/** The final assistant turn's text (a prefill), or null. */
function prefillOf(body: unknown): string | null {
  const messages = (body as { messages?: unknown } | null)?.messages;
  const last = Array.isArray(messages) ? (messages.at(-1) as { role?: unknown; content?: unknown }) : undefined;
  return last?.role === "assistant" && typeof last.content === "string" ? last.content : null;
}

/** The fake reply's deltas after a prefill: the rest of FAKE_REPLY, the whitespace it trimmed included. */
function deltasAfter(prefill: string): string[] {
  const rest = FAKE_REPLY.startsWith(prefill) ? FAKE_REPLY.slice(prefill.length) : ` ${FAKE_REPLY}`;
  const words = rest.match(/\s*\S+/g) ?? [];
  return words;
}

async function streamReply(
  res: ServerResponse,
  scenario: string,
  model: string,
  prefill: string | null,
): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "request-id": "req_fake" });
  const message = { id: "msg_fake", type: "message", role: "assistant", model, content: [], stop_reason: null };
  const startUsage = {
    input_tokens: FAKE_USAGE.inputTokens,
    output_tokens: 1,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  sendEvent(res, "message_start", { message: { ...message, stop_sequence: null, usage: startUsage } });
  sendEvent(res, "content_block_start", { index: 0, content_block: { type: "text", text: "", citations: null } });
  sendEvent(res, "ping", {});
  const deltas =
    scenario === "slow"
      ? Array.from({ length: 100 }, (_, index) => `tick ${index} `)
      : prefill !== null
        ? deltasAfter(prefill)
        : FAKE_REPLY_DELTAS;
  for (const [index, text] of deltas.entries()) {
    if (scenario === "error-midstream" && index === 2 && prefill === null) {
      sendEvent(res, "error", { error: { type: "overloaded_error", message: "Overloaded" } });
      res.end();
      return;
    }
    sendEvent(res, "content_block_delta", { index: 0, delta: { type: "text_delta", text } });
    await delay(scenario === "slow" ? 100 : 5);
    if (res.destroyed) return;
  }
  if (scenario === "cut") {
    res.end();
    return;
  }
  sendEvent(res, "content_block_stop", { index: 0 });
  const stop = { stop_reason: "end_turn", stop_sequence: null, stop_details: null, container: null };
  sendEvent(res, "message_delta", { delta: stop, usage: { output_tokens: FAKE_USAGE.outputTokens } });
  sendEvent(res, "message_stop", {});
  res.end();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const requests: FakeRequest[] = [];
  const open = new Set<ServerResponse>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/v1/messages") {
      return sendJsonError(res, 404, "not_found_error");
    }
    const body = await readJson(req);
    requests.push({ body, headers: { ...req.headers } });
    const request = (body ?? {}) as { stream?: unknown; model?: unknown };
    if (request.stream !== true || !rolesAlternate(body)) return sendJsonError(res, 400, "invalid_request_error");
    const prefill = prefillOf(body);
    if (prefill !== null && prefill !== prefill.trimEnd()) return sendJsonError(res, 400, "invalid_request_error");
    const scenario = /\bscenario:([\w-]+)/.exec(lastUserText(body))?.[1] ?? "text";
    const httpError = HTTP_ERRORS[scenario];
    if (httpError) return sendJsonError(res, httpError.status, httpError.type, httpError.headers);
    await streamReply(res, scenario, String(request.model), prefill);
  };
  const server = createServer((req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    // A client that hangs up mid-request must not become an unhandled rejection in the test run.
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
