import type { AppendItem, ChunkStore, ReplyInit } from "../streams/types";

/** Where batches go: the reply lifecycle (a test may pass a store). */
export type ChunkWriter = Pick<ChunkStore, "appendMany">;

// Tokens arrive one by one; readers need them a few at a time, and Redis should see as few
// commands as possible. Every reply a worker process writes keeps a buffer here. Each reply has
// its own rhythm: a buffer holding text is due at the reply's next beat, every `intervalMs` from
// the moment its attempt opened (at once for the attempt's first text, past `maxChars`, or when
// its reply asks to flush). The
// batcher wakes once per interval for up to BATCH_REPLIES replies, and up to SLICES times per
// interval for more, and writes every buffer that is due (or nearly) with one `appendMany`: one
// script call, one PUBLISH per shard, whatever the number of replies in it.
//
// Beats that follow each reply's start, rather than its tokens, spread 1,000 replies over five
// batches of 200 per interval even when their tokens arrive in step (as the mock model's do): a
// burst of 1,000 makes the last reader of it wait for the other 999 at every step (the Lua script,
// the web's fan-out, the sockets). Fewer replies share one batch, which keeps Redis commands per
// token low. One batch is in flight at a time, so each reply's chunks are written in order.

export type OnWritten = (seq: number | null, text: string, ts: number) => void;

/** Most wake-ups per interval: a reply's chunk is written at most intervalMs / SLICES / 2 off its beat. */
const SLICES = 5;
/** Replies per batch that a wake-up aims for (the Redis store's script call takes 200). */
const BATCH_REPLIES = 200;

export class ChunkBatcher {
  private readonly pending = new Set<ReplyBuffer>();
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (ms since the epoch). */
  private timerAt = Number.POSITIVE_INFINITY;
  private current: Promise<void> | null = null;
  private runWaiters: Array<() => void> = [];
  /** No wake-up before this, but for a reply that must be written now. */
  private quietUntil = 0;

  constructor(
    private readonly writer: ChunkWriter,
    readonly intervalMs: number,
    readonly maxChars: number,
  ) {}

  /** A buffer for one attempt of one reply; `onWritten` sees each chunk once it is stored. */
  open(reply: ReplyInit, attempt: number, onWritten: OnWritten): ReplyBuffer {
    return new ReplyBuffer(this, reply, attempt, onWritten);
  }

  /** @internal The buffer holds text; `now` makes it due at once. */
  add(buffer: ReplyBuffer, now: boolean): void {
    if (!this.pending.has(buffer)) {
      buffer.dueAt = now ? 0 : this.nextBeat(buffer);
      this.pending.add(buffer);
    } else if (now) {
      buffer.dueAt = 0;
    } else {
      return;
    }
    // The batch in flight arms the next wake-up when it is written.
    if (!this.current) this.arm(buffer.dueAt);
  }

  /** @internal */
  drop(buffer: ReplyBuffer): void {
    this.pending.delete(buffer);
  }

  /** @internal Resolves once the next batch (or the one in flight) is written. */
  nextRun(): Promise<void> {
    return new Promise((resolve) => this.runWaiters.push(resolve));
  }

  /** The first of the buffer's beats after now: at most one write per reply per interval. */
  private nextBeat(buffer: ReplyBuffer): number {
    // A buffer written a little ahead of its beat (see `horizon`) skips that beat.
    const from = Math.max(Date.now(), buffer.takenAt + this.intervalMs / 2);
    return from - ((from - buffer.openedAt) % this.intervalMs) + this.intervalMs;
  }

  /**
   * Wakes for something due at `due` (0 = now), unless a wake-up is already due earlier; none comes
   * sooner than one gap after the last, unless a reply asked to be written now.
   */
  private arm(due: number) {
    const at = due === 0 ? 0 : Math.max(due, this.quietUntil);
    if (at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        void this.run();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private async run(): Promise<void> {
    if (this.current) return;
    const ts = Date.now();
    const slices = Math.min(SLICES, Math.max(1, Math.ceil(this.pending.size / BATCH_REPLIES)));
    const gapMs = this.intervalMs / slices;
    // What falls due nearer this wake-up than the next goes now.
    const horizon = ts + gapMs / 2;
    this.quietUntil = ts + gapMs;
    const taken: ReplyBuffer[] = [];
    for (const buffer of this.pending) if (buffer.dueAt <= horizon) taken.push(buffer);
    for (const buffer of taken) this.pending.delete(buffer);
    if (taken.length > 0) {
      const items: AppendItem[] = taken.map((buffer) => ({
        reply: buffer.reply,
        attempt: buffer.attempt,
        text: buffer.take(),
        ts,
      }));
      const written = this.write(taken, items);
      for (const buffer of taken) buffer.lastWrite = written;
      this.current = written;
      await written;
      this.current = null;
    }
    this.resolveWaiters();
    if (this.pending.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const buffer of this.pending) earliest = Math.min(earliest, buffer.dueAt);
    this.arm(earliest);
  }

  private async write(buffers: ReplyBuffer[], items: AppendItem[]): Promise<void> {
    try {
      const seqs = await this.writer.appendMany(items);
      buffers.forEach((buffer, index) => {
        const item = items[index];
        if (item) buffer.written(seqs[index] ?? null, item.text, item.ts);
      });
    } catch (error) {
      for (const buffer of buffers) buffer.failure ??= error;
    }
  }

  private resolveWaiters() {
    const waiters = this.runWaiters;
    this.runWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

export class ReplyBuffer {
  private text = "";
  private closed = false;
  /** @internal */
  failure: unknown = null;
  /** @internal The batch that holds this reply's latest chunk. */
  lastWrite: Promise<void> = Promise.resolve();
  /** @internal When the buffered text should be written (ms since the epoch; 0 = now). */
  dueAt = 0;
  /** @internal The reply's beats fall every intervalMs from here. */
  readonly openedAt = Date.now();
  /** @internal When text was last taken for a write. */
  takenAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly batcher: ChunkBatcher,
    readonly reply: ReplyInit,
    readonly attempt: number,
    private readonly onWritten: OnWritten,
  ) {}

  push(text: string): void {
    if (this.failure) throw this.failure;
    if (this.closed || !text) return;
    this.text += text;
    // The attempt's first text goes at once: the reader waits for the first token more than any other.
    const first = this.takenAt === Number.NEGATIVE_INFINITY;
    this.batcher.add(this, first || this.text.length >= this.batcher.maxChars);
  }

  /** Writes what is buffered and waits until it is stored; throws the first write failure. */
  async flush(): Promise<void> {
    while (this.text && !this.failure) {
      const next = this.batcher.nextRun();
      this.batcher.add(this, true);
      await next;
    }
    await this.lastWrite;
    if (this.failure) throw this.failure;
  }

  /** Drops what is buffered (the attempt was abandoned); nothing more is written. */
  discard(): void {
    this.closed = true;
    this.text = "";
    this.batcher.drop(this);
  }

  /** @internal */
  take(): string {
    const text = this.text;
    this.text = "";
    this.takenAt = Date.now();
    return text;
  }

  /** @internal */
  written(seq: number | null, text: string, ts: number): void {
    if (!this.closed) this.onWritten(seq, text, ts);
  }
}
