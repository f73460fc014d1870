import type {
  ActiveStream,
  ApiErrorBody,
  SearchResult,
  SendAccepted,
  SessionSummary,
  StoredMessage,
} from "../contract";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
  }
}

const expiryListeners = new Set<() => void>();

/**
 * Calls `listener` whenever the API answers 401 to a chat call: the session ended (it expired, or
 * was signed out elsewhere). The unsubscribe function.
 */
export function onSessionExpired(listener: () => void): () => void {
  expiryListeners.add(listener);
  return () => expiryListeners.delete(listener);
}

/** Tells the listeners the session has ended (the stream's 401 says so too). */
export function sessionExpired(): void {
  for (const listener of expiryListeners) listener();
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, {
    ...init,
    credentials: "same-origin",
    headers: { ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers },
  });
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => null)) as T | ApiErrorBody | null;
  if (!response.ok) {
    const error = (body as ApiErrorBody | null)?.error;
    const retryAfter = response.headers.get("retry-after");
    if (response.status === 401 && path.startsWith("/api/chat/")) sessionExpired();
    throw new ApiError(
      response.status,
      error?.code ?? "http_error",
      error?.message ?? `Request failed (${response.status}).`,
      retryAfter ? Number(retryAfter) : null,
    );
  }
  return body as T;
}

/** Who is signed in: a guest, or an account (with its provider's email, when it gave one). */
export interface SessionUser {
  id: string;
  name: string;
  email?: string | null;
  guest: boolean;
  /** Nobody is signed in (guests are off): only an account's sign-in is offered. */
  signedOut?: boolean;
}

export interface AuthProvider {
  id: string;
  name: string;
  type: string;
}

/** POSTs an Auth.js action (sign-in, sign-out) with its CSRF token; the URL it would redirect to. */
async function authAction(path: string, fields: Record<string, string>): Promise<string> {
  const { csrfToken } = await call<{ csrfToken: string }>("/api/auth/csrf");
  // X-Auth-Return-Redirect: Auth.js answers with the URL instead of redirecting, so the browser
  // goes to the provider by navigation (a form's redirect to another origin is refused by the
  // CSP's form-action 'self').
  const { url } = await call<{ url: string }>(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1" },
    body: new URLSearchParams({ ...fields, csrfToken }).toString(),
  });
  return url;
}

export const api = {
  signInAsGuest: () => call<{ user: SessionUser }>("/api/auth/guest", { method: "POST" }),
  currentSession: () => call<{ user?: Partial<SessionUser> } | null>("/api/auth/session"),
  /** The account providers the server has on (guests are not one: they need no sign-in). */
  accountProviders: async () =>
    Object.values((await call<Record<string, AuthProvider> | null>("/api/auth/providers")) ?? {}).filter(
      (provider) => provider.id !== "guest",
    ),
  /** Where the browser goes to sign in with `provider`; it comes back to `returnTo`. */
  signInUrl: (provider: string, returnTo: string) =>
    authAction(`/api/auth/signin/${encodeURIComponent(provider)}`, { callbackUrl: returnTo }),
  signOut: () => authAction("/api/auth/signout", { callbackUrl: "/" }),
  listSessions: () => call<{ sessions: SessionSummary[]; nextCursor: string | null }>("/api/chat/sessions?limit=100"),
  listMessages: (sessionId: string) =>
    call<{ messages: StoredMessage[]; activeLeafId: string | null }>(`/api/chat/sessions/${sessionId}/messages`),
  regenerate: (sessionId: string, userMessageId: string, clientMessageId: string) =>
    call<SendAccepted>(`/api/chat/regenerate/${sessionId}/${userMessageId}`, {
      method: "POST",
      body: JSON.stringify({ clientMessageId }),
    }),
  /** A chat's system prompt ("": none); answers with the prompt the server kept (trimmed, or null). */
  setSystemPrompt: (sessionId: string, systemPrompt: string) =>
    call<{ systemPrompt: string | null }>(`/api/chat/sessions/${sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ systemPrompt }),
    }),
  setLeaf: (sessionId: string, activeLeafId: string) =>
    call<SessionSummary>(`/api/chat/sessions/${sessionId}`, {
      method: "PATCH",
      body: JSON.stringify({ activeLeafId }),
    }),
  send: (input: {
    sessionId?: string;
    content: string;
    clientMessageId: string;
    parentMessageId?: string | null;
    model?: string;
    /** Only when the send starts a new chat. */
    systemPrompt?: string;
  }) => call<SendAccepted>("/api/chat/messages", { method: "POST", body: JSON.stringify(input) }),
  cancel: (sessionId: string, messageId: string) =>
    call<{ status: string }>(`/api/chat/cancel/${sessionId}/${messageId}`, { method: "POST" }),
  rename: (sessionId: string, title: string) =>
    call<SessionSummary>(`/api/chat/sessions/${sessionId}`, { method: "PATCH", body: JSON.stringify({ title }) }),
  remove: (sessionId: string) => call<void>(`/api/chat/sessions/${sessionId}`, { method: "DELETE" }),
  activeStreams: () => call<{ streams: ActiveStream[] }>("/api/chat/active-streams"),
  search: (q: string, limit: number, signal?: AbortSignal) =>
    call<{ results: SearchResult[] }>(`/api/chat/search?${new URLSearchParams({ q, limit: String(limit) })}`, {
      signal,
    }),
};
