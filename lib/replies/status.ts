// The one definition of a reply's statuses: which of them run and which have ended. Pure (no
// server imports): the server, the database schema, the browser and the tests all read it here.

export const REPLY_STATUSES = ["queued", "generating", "completed", "error", "cancelled"] as const;
export type ReplyStatus = (typeof REPLY_STATUSES)[number];

/** A running reply may still change: a worker writes it, or will. */
export const RUNNING_STATUSES = ["queued", "generating"] as const satisfies readonly ReplyStatus[];
/** An ended reply never changes again; its last event is `done`, `error` or `status cancelled`. */
export const ENDED_STATUSES = ["completed", "error", "cancelled"] as const satisfies readonly ReplyStatus[];
export type RunningStatus = (typeof RUNNING_STATUSES)[number];
export type EndedStatus = (typeof ENDED_STATUSES)[number];

export const isRunning = (status: ReplyStatus): status is RunningStatus =>
  (RUNNING_STATUSES as readonly ReplyStatus[]).includes(status);
export const isEnded = (status: ReplyStatus): status is EndedStatus => !isRunning(status);

/**
 * The running statuses as an SQL list, `('queued', 'generating')`. Written out as constants, not
 * bound parameters, so that a prepared statement's generic plan can still prove the partial index
 * on running replies applies (with parameters it scanned every message of the user instead).
 */
export const RUNNING_SQL_LIST = `(${RUNNING_STATUSES.map((status) => `'${status}'`).join(", ")})`;
/** The ended statuses as an SQL list, for the same reason (the search index's predicate). */
export const ENDED_SQL_LIST = `(${ENDED_STATUSES.map((status) => `'${status}'`).join(", ")})`;

/** Errors a new attempt cannot fix; the rest (overloaded, a lost worker, …) may succeed if asked again. */
export const FINAL_ERROR_CODES: ReadonlySet<string> = new Set(["bad_request", "auth_failed"]);
