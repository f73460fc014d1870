// One reader's view of one reply, built the way a careful client builds it, and everything that
// went against the contract on the way: a chunk must be the previous seq + 1 (it starts again only
// after a `reset`; a `snapshot` replaces the text and the seq), nothing follows the reply's end.
import type { SseEvent } from "../../tests/support/client";

export interface ChunkSeen {
  attempt: number;
  seq: number;
  /** When the worker wrote it (the chunk's `ts`) and when this reader got it, both ms since the epoch. */
  ts: number;
  at: number;
}

export type AnomalyKind =
  /** A seq at or below the last one applied (dropped, as a client would). */
  | "duplicate"
  /** A seq beyond the last one + 1, or an end whose seq is not the last chunk's. */
  | "gap"
  /** Any event of the reply after its end. */
  | "after_end"
  /** A chunk of an attempt older than one already seen. */
  | "stale_attempt";

export interface Anomaly {
  kind: AnomalyKind;
  at: number;
  detail: string;
}

export interface ResetSeen {
  attempt: number;
  at: number;
  /** The reader had text of the reply when the reset dropped it. */
  hadText: boolean;
}

export type EndKind = "completed" | "error" | "cancelled";

export class ReplyView {
  attempt = 0;
  seq = 0;
  text = "";
  end: { kind: EndKind; at: number } | null = null;
  readonly chunks: ChunkSeen[] = [];
  readonly anomalies: Anomaly[] = [];
  readonly resets: ResetSeen[] = [];
  snapshots = 0;
  /** `status generating` events of later attempts that said `continued: true`. */
  continuations = 0;

  constructor(
    readonly messageId: string,
    readonly sessionId: string,
  ) {}

  /** The position to resume from: the SSE id of the last chunk applied (`:0:0` before any). */
  cursor(): string {
    return `${this.messageId}:${this.attempt}:${this.seq}`;
  }

  apply(event: SseEvent, at: number): void {
    const data = event.data;
    if (this.end) {
      this.note("after_end", at, `${event.event} after ${this.end.kind}`);
      return;
    }
    const attempt = typeof data.attempt === "number" ? data.attempt : this.attempt;
    switch (event.event) {
      case "status":
        if (attempt > this.attempt) {
          this.attempt = attempt;
          if (data.continued === true) this.continuations++;
        }
        if (data.status === "cancelled") this.finish("cancelled", data, at);
        return;
      case "chunk":
        this.applyChunk(attempt, Number(data.seq), String(data.text), Number(data.ts), at);
        return;
      case "reset":
        this.resets.push({ attempt, at, hadText: this.text.length > 0 });
        this.attempt = Math.max(this.attempt, attempt);
        this.text = "";
        this.seq = 0;
        return;
      case "snapshot":
        this.snapshots++;
        this.attempt = Math.max(this.attempt, attempt);
        this.text = String(data.content);
        this.seq = Number(data.seq);
        return;
      case "done":
        this.finish("completed", data, at);
        return;
      case "error":
        this.finish("error", data, at);
        return;
    }
  }

  private applyChunk(attempt: number, seq: number, text: string, ts: number, at: number) {
    if (attempt < this.attempt) {
      this.note("stale_attempt", at, `chunk ${attempt}:${seq} after attempt ${this.attempt} began`);
      return;
    }
    this.attempt = attempt;
    if (seq <= this.seq) {
      this.note("duplicate", at, `chunk ${attempt}:${seq} after seq ${this.seq}`);
      return;
    }
    if (seq !== this.seq + 1) this.note("gap", at, `chunk ${attempt}:${seq} after seq ${this.seq}`);
    this.text += text;
    this.seq = seq;
    this.chunks.push({ attempt, seq, ts, at });
  }

  private finish(kind: EndKind, data: Record<string, unknown>, at: number) {
    // An end names the reply's final chunk count: a reader short of it missed chunks.
    if (typeof data.seq === "number" && data.seq !== this.seq) {
      this.note("gap", at, `${kind} at seq ${data.seq}, reader at seq ${this.seq}`);
    }
    this.end = { kind, at };
  }

  private note(kind: AnomalyKind, at: number, detail: string) {
    this.anomalies.push({ kind, at, detail });
  }
}
