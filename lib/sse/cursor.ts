// Stream cursors: `<messageId>:<attempt>:<seq>`, the SSE id of a chunk. Cursors that do not parse
// are ignored, never an error.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Cursor {
  messageId: string;
  attempt: number;
  seq: number;
  /** The client has the reply's end (the id of a `done`, `error` or `cancelled` event). */
  ended: boolean;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function parseCursor(raw: string | null | undefined): Cursor | null {
  if (!raw) return null;
  const [messageId, attempt, seq, end, extra] = raw.trim().split(":");
  if (extra !== undefined || (end !== undefined && end !== "end") || !messageId || !isUuid(messageId)) return null;
  if (!/^\d{1,9}$/.test(attempt ?? "") || !/^\d{1,9}$/.test(seq ?? "")) return null;
  return { messageId: messageId.toLowerCase(), attempt: Number(attempt), seq: Number(seq), ended: end === "end" };
}

const isLater = (a: Cursor, b: Cursor) =>
  a.attempt > b.attempt || (a.attempt === b.attempt && (a.seq > b.seq || (a.seq === b.seq && a.ended && !b.ended)));

/**
 * The cursors of one request: `Last-Event-ID` (the header wins over `?lastEventId=`) plus, on the
 * all-sessions stream, `?cursors=a,b`. Where two name the same reply, the later position wins.
 */
export function cursorsOf(
  lastEventIdHeader: string | undefined,
  query: URLSearchParams,
  allowList: boolean,
): Map<string, Cursor> {
  const raw = [lastEventIdHeader ?? query.get("lastEventId")];
  if (allowList) raw.push(...(query.get("cursors") ?? "").split(",").slice(0, 200));
  const cursors = new Map<string, Cursor>();
  for (const cursor of raw.map(parseCursor)) {
    if (!cursor) continue;
    const known = cursors.get(cursor.messageId);
    if (!known || isLater(cursor, known)) cursors.set(cursor.messageId, cursor);
  }
  return cursors;
}
