import "server-only";
import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";

// Traces of one turn, across the web and the worker (OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is
// set; lib/tracing/sdk.ts). This module holds only the API, a no-op until a provider registers:
// with the variable unset nothing here starts a span, and the SDK is never loaded.
//
// A turn's trace is known from ids every side already holds, so nothing is stored for it: its trace
// id is the turn's correlation id (a UUID is 128 bits, as a trace id), and its enqueue span's id is
// the reply's message id's last 64 bits. The SSE delivery span of a reply, on any web process, joins
// the trace from the correlation id and message id that every stream event carries; a job the
// worker queued again (no traceparent) joins it the same way. An operator pastes the correlation id
// a user reports (X-Correlation-Id) into the trace viewer as it is, without the dashes.
//
//   POST /api/chat/messages (web) ─▶ enqueue reply (web) ─▶ generate-reply (worker) ─▶ chat <model> (worker)
//                                                       └─▶ sse delivery (web, one per reader of the reply)

/** The span attribute that names the turn's correlation id (lib/http/request-ids.ts). */
export const ATTR_CORRELATION_ID = "backchannel.correlation_id";
export const ATTR_MESSAGE_ID = "backchannel.message_id";
export const ATTR_SESSION_ID = "backchannel.session_id";

interface IdHint {
  traceId?: string;
  spanId?: string;
}

interface TracingState {
  on: boolean;
  /** The ids of the next span the provider starts (lib/tracing/sdk.ts reads it); set just before, synchronously. */
  hint: IdHint | null;
  flush?: () => Promise<void>;
}

// On globalThis: instrumentation.ts (which starts the SDK) and each route are separate bundles.
const state = globalThis as unknown as { __backchannelTracing?: TracingState };

export function tracingState(): TracingState {
  state.__backchannelTracing ??= { on: false, hint: null };
  return state.__backchannelTracing;
}

/** Whether this process exports spans (the SDK started). Checked first by every helper here. */
export function tracingOn(): boolean {
  return state.__backchannelTracing?.on === true;
}

function tracer(): Tracer {
  return trace.getTracer("backchannel");
}

const hex = (uuid: string) => uuid.replaceAll("-", "").toLowerCase();

/** The trace id of a turn: its correlation id without dashes. */
export function traceIdOf(correlationId: string): string {
  return hex(correlationId);
}

/** The span id of a reply's enqueue span, which its job and its SSE deliveries hang from. */
export function turnSpanIdOf(messageId: string): string {
  return hex(messageId).slice(16);
}

/** The reply's place in its turn's trace, for spans of processes that were not handed a traceparent. */
export function turnContext(correlationId: string, messageId: string): Context {
  const spanContext = {
    traceId: traceIdOf(correlationId),
    spanId: turnSpanIdOf(messageId),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}

/** Starts a span whose ids are the hint's where it names them (a root span takes its trace id). */
function startHinted(name: string, hint: IdHint, kind: SpanKind, attributes: Attributes, parent: Context): Span {
  const tracing = tracingState();
  tracing.hint = hint;
  try {
    return tracer().startSpan(name, { kind, attributes }, parent);
  } finally {
    tracing.hint = null;
  }
}

/** Runs `work` in the span, ending it with an error status when `work` throws. */
async function inSpan<T>(span: Span, work: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(context.active(), span), () => work(span));
  } catch (error) {
    // A refusal the client caused (an AppError below 500: 400, 404, 429…) is an answer, not a fault.
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number") span.setAttribute("http.response.status_code", status);
    if (typeof status !== "number" || status >= 500) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    throw error;
  } finally {
    span.end();
  }
}

/**
 * The web's span of a request that starts a turn (send, regenerate): the root of the turn's trace,
 * whose trace id is the request's correlation id. Next's own request span, when Next makes one, is
 * linked, not the parent: its trace id is random.
 */
export function traceTurnRequest<T>(
  name: string,
  correlationId: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work();
  const outer = trace.getSpanContext(context.active());
  const span = startHinted(
    name,
    { traceId: traceIdOf(correlationId) },
    SpanKind.SERVER,
    { ...attributes, [ATTR_CORRELATION_ID]: correlationId },
    ROOT_CONTEXT,
  );
  if (outer && isSpanContextValid(outer)) span.addLink({ context: outer });
  return inSpan(span, work);
}

/**
 * The enqueue of a reply's job: its span id comes from the message id (turnSpanIdOf). Under the
 * request's span when that is the turn's trace; a repeated send (another request, another
 * correlation id) queues the stored turn in the turn's own trace, linked to the request.
 */
export function traceEnqueue<T>(
  reply: { id: string; sessionId: string; correlationId: string },
  work: () => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work();
  const traceId = traceIdOf(reply.correlationId);
  const outer = trace.getSpanContext(context.active());
  const inTurn = outer?.traceId === traceId;
  const span = startHinted(
    "enqueue reply",
    { traceId, spanId: turnSpanIdOf(reply.id) },
    SpanKind.PRODUCER,
    { [ATTR_CORRELATION_ID]: reply.correlationId, [ATTR_MESSAGE_ID]: reply.id, [ATTR_SESSION_ID]: reply.sessionId },
    inTurn ? context.active() : ROOT_CONTEXT,
  );
  if (outer && !inTurn && isSpanContextValid(outer)) span.addLink({ context: outer });
  return inSpan(span, work);
}

/** The W3C traceparent of the current span, for a job's payload; undefined when nothing is traced. */
export function currentTraceparent(): string | undefined {
  if (!tracingOn()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * The worker's span of one run of a reply's job: under the traceparent the job carries, else (a job
 * queued again by a sweep) under the reply's enqueue span, found from its ids.
 */
export function traceJob<T>(
  job: { messageId: string; sessionId: string; correlationId: string; traceparent?: string | undefined },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work(NOOP_SPAN);
  const carried = job.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: job.traceparent }) : null;
  const parent = carried && trace.getSpanContext(carried) ? carried : turnContext(job.correlationId, job.messageId);
  const span = tracer().startSpan(
    "generate-reply",
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR_CORRELATION_ID]: job.correlationId,
        [ATTR_MESSAGE_ID]: job.messageId,
        [ATTR_SESSION_ID]: job.sessionId,
      },
    },
    parent,
  );
  return inSpan(span, work);
}

/** The worker's span of one model call (one attempt), named as OpenTelemetry's GenAI conventions name it. */
export function traceModelCall<T>(
  call: { model: string; provider: string; correlationId: string; messageId: string; attempt: number },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return work(NOOP_SPAN);
  const span = tracer().startSpan(`chat ${call.model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": call.provider,
      "gen_ai.request.model": call.model,
      [ATTR_CORRELATION_ID]: call.correlationId,
      [ATTR_MESSAGE_ID]: call.messageId,
      "backchannel.attempt": call.attempt,
    },
  });
  return inSpan(span, work);
}

/** A span that records nothing, handed to `work` when nothing is traced. */
const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The events of a reply an SSE connection writes, as far as its delivery span cares. */
interface DeliveredEvent {
  type: string;
  messageId: string;
  sessionId: string;
  correlationId: string;
}

/**
 * One SSE connection's delivery spans: one per reply it writes, from its first chunk to its end
 * (`done` or `error`, else the connection's close). Per chunk it costs one Map look-up; with tracing
 * off, null, and the connection checks nothing.
 */
export function sseDeliveryTracker(): { written(event: DeliveredEvent): void; close(): void } | null {
  if (!tracingOn()) return null;
  const open = new Map<string, Span>();
  const ended = new Set<string>();
  return {
    written(event) {
      const span = open.get(event.messageId);
      if (span) {
        if (event.type === "done" || event.type === "error") {
          span.addEvent(event.type);
          span.end();
          open.delete(event.messageId);
          ended.add(event.messageId);
        }
        return;
      }
      if (event.type !== "chunk" || ended.has(event.messageId)) return;
      const started = tracer().startSpan(
        "sse delivery",
        {
          kind: SpanKind.SERVER,
          attributes: {
            [ATTR_CORRELATION_ID]: event.correlationId,
            [ATTR_MESSAGE_ID]: event.messageId,
            [ATTR_SESSION_ID]: event.sessionId,
          },
        },
        turnContext(event.correlationId, event.messageId),
      );
      started.addEvent("first chunk");
      open.set(event.messageId, started);
    },
    close() {
      for (const span of open.values()) {
        span.addEvent("connection closed");
        span.end();
      }
      open.clear();
    },
  };
}

/** Sends the spans not yet exported (on SIGTERM); nothing when tracing is off. */
export async function flushTracing(): Promise<void> {
  await state.__backchannelTracing?.flush?.().catch(() => {});
}
