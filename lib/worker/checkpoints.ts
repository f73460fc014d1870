import type { CheckpointWrite } from "../db/queries/checkpoints";
import { describeError, log } from "../log";

// A running reply's text lives in the chunk store, which can lose it (a Redis restarted empty).
// Every `intervalMs` the worker copies what each of its replies wrote since the last copy into
// Postgres, all replies in one statement, so such a loss costs at most that interval of text,
// and the next attempt continues from the copy instead of starting over.

type WriteCheckpoints = (writes: readonly CheckpointWrite[]) => Promise<Set<string>>;

interface Tracked {
  id: string;
  attempt: number;
  content: string;
  chunks: string[];
  /** Chunks (and characters) the database holds for this attempt; 0 = it needs the whole text. */
  savedSeq: number;
  savedChars: number;
}

export class ReplyCheckpoints {
  private readonly replies = new Map<string, Tracked>();
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: WriteCheckpoints,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /**
   * Starts keeping an attempt's text, beginning with the chunks it continues. The attempt's first
   * write replaces the stored checkpoint, so the database never mixes two attempts' chunks.
   */
  open(id: string, attempt: number, kept: readonly string[]): CheckpointHandle {
    const reply: Tracked = { id, attempt, content: kept.join(""), chunks: [...kept], savedSeq: 0, savedChars: 0 };
    this.replies.set(id, reply);
    return {
      add: (text) => {
        reply.content += text;
        reply.chunks.push(text);
      },
      content: () => reply.content,
      chunks: () => reply.chunks,
      close: async (save) => {
        if (this.replies.get(id) === reply) this.replies.delete(id);
        if (save) await this.flushReplies([reply]);
      },
    };
  }

  /** Writes every reply's new text; one statement, one batch at a time. */
  flush(): Promise<void> {
    return this.flushReplies([...this.replies.values()]);
  }

  private flushReplies(replies: Tracked[]): Promise<void> {
    this.writing = this.writing.then(() => this.writeDue(replies));
    return this.writing;
  }

  private async writeDue(replies: Tracked[]): Promise<void> {
    const due = replies.filter((reply) => reply.chunks.length > reply.savedSeq);
    if (due.length === 0) return;
    const writes = due.map((reply) => ({
      id: reply.id,
      attempt: reply.attempt,
      fromSeq: reply.savedSeq,
      seq: reply.chunks.length,
      text: reply.content.slice(reply.savedChars),
      lengths: reply.chunks.slice(reply.savedSeq).map((text) => text.length),
    }));
    try {
      const landed = await this.write(writes);
      due.forEach((reply, index) => {
        const write = writes[index];
        if (!write) return;
        // A write that did not land (the reply ended, or another attempt wrote) starts over whole.
        const ok = landed.has(write.id);
        reply.savedChars = ok ? reply.savedChars + write.text.length : 0;
        reply.savedSeq = ok ? write.seq : 0;
      });
    } catch (error) {
      // The next interval tries again; the store still holds the text.
      log.warn("checkpoint failed", { replies: writes.length, error: describeError(error) });
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

export interface CheckpointHandle {
  /** A chunk of the attempt was stored. */
  add(text: string): void;
  /** The reply's text so far (kept chunks and this attempt's), and its chunks. */
  content(): string;
  chunks(): readonly string[];
  /** The attempt ended; `save` writes its text now (it did not complete, so its text must survive). */
  close(save: boolean): Promise<void>;
}
