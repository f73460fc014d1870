import "server-only";
import { sql } from "drizzle-orm";
import { getDb } from "../client";
import { messages } from "../schema";

/** What a worker adds to one running reply's checkpoint: the chunks after `fromSeq`. */
export interface CheckpointWrite {
  id: string;
  attempt: number;
  /** The checkpoint's seq this write extends (0 = it replaces the checkpoint). */
  fromSeq: number;
  seq: number;
  /** The text of chunks fromSeq+1 … seq, and each one's length. */
  text: string;
  lengths: number[];
}

/**
 * Extends the checkpoints of many running replies in one statement: a worker writes all of its
 * replies' new text every few seconds in one round trip. Each write appends only the new text
 * (not the whole reply again), and lands only while the reply still runs that attempt and the
 * checkpoint is where the worker left it; the ids that landed come back.
 */
export async function extendReplyCheckpoints(writes: readonly CheckpointWrite[]): Promise<Set<string>> {
  if (writes.length === 0) return new Set();
  const db = await getDb();
  const rows = JSON.stringify(
    writes.map((w) => ({
      id: w.id,
      attempt: w.attempt,
      from_seq: w.fromSeq,
      seq: w.seq,
      text: w.text,
      lengths: w.lengths,
    })),
  );
  const result = (await db.execute(sql`
    update ${messages} m set
      content = case when v.from_seq = 0 then v.text else m.content || v.text end,
      chunk_lengths = case when v.from_seq = 0 then v.lengths else coalesce(m.chunk_lengths, '[]'::jsonb) || v.lengths end,
      seq = v.seq, updated_at = now()
    from json_to_recordset(${rows}::json) as v(id uuid, attempt int, from_seq int, seq int, text text, lengths jsonb)
    where m.id = v.id and m.attempt = v.attempt and m.status = 'generating'
      and (v.from_seq = 0 or m.seq = v.from_seq)
    returning m.id`)) as unknown as Array<{ id: string }> | { rows: Array<{ id: string }> };
  return new Set((Array.isArray(result) ? result : result.rows).map((row) => row.id));
}
