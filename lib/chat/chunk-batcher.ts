import type { AppendItem, ChunkStore, ReplyInit } from "../streams/types";

// Tokens arrive one by one; readers need them a few at a time, and Redis should see as few
// commands as possible. Every reply a worker process writes keeps a buffer here; every
// `intervalMs` (or at once when a buffer passes `maxChars`, or a reply asks to flush) the buffers
// that hold text are written together with one `appendMany`: one script call per 200 replies,
// one PUBLISH per shard, whatever the number of replies. One batch is in flight at a time, so each
// reply's chunks are written in order.

export type OnWritten = (seq: number | null, text: string, ts: number) => void;

export class ChunkBatcher {
  private readonly pending = new Set<ReplyBuffer>();
  private timer: NodeJS.Timeout | null = null;
  private immediate = false;
  private urgent = false;
  private current: Promise<void> | null = null;
  private runWaiters: Array<() => void> = [];

  constructor(
    private readonly store: ChunkStore,
    readonly intervalMs: number,
    readonly maxChars: number,
  ) {}

  /** A buffer for one attempt of one reply; `onWritten` sees each chunk once it is stored. */
  open(reply: ReplyInit, attempt: number, onWritten: OnWritten): ReplyBuffer {
    return new ReplyBuffer(this, reply, attempt, onWritten);
  }

  /** @internal */
  add(buffer: ReplyBuffer, now: boolean): void {
    this.pending.add(buffer);
    if (now) this.urgent = true;
    if (this.current) return; // the batch in flight schedules the next one when it is written
    if (this.urgent) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (!this.immediate) {
        this.immediate = true;
        setImmediate(() => {
          this.immediate = false;
          void this.run();
        });
      }
    } else if (!this.timer && !this.immediate) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.run();
      }, this.intervalMs);
    }
  }

  /** @internal */
  drop(buffer: ReplyBuffer): void {
    this.pending.delete(buffer);
  }

  /** @internal Resolves once the next batch (or the one in flight) is written. */
  nextRun(): Promise<void> {
    return new Promise((resolve) => this.runWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    if (this.current) return;
    if (this.pending.size === 0) {
      this.resolveWaiters();
      return;
    }
    this.urgent = false;
    const taken = [...this.pending];
    this.pending.clear();
    const ts = Date.now();
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
    this.resolveWaiters();
    if (this.pending.size > 0) {
      const now = this.urgent;
      this.urgent = false;
      // Re-arm: what arrived while the batch was in flight goes out after one more interval,
      // or at once when somebody asked for it.
      const first = this.pending.values().next().value;
      if (first) this.add(first, now);
    }
  }

  private async write(buffers: ReplyBuffer[], items: AppendItem[]): Promise<void> {
    try {
      const seqs = await this.store.appendMany(items);
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
    this.batcher.add(this, this.text.length >= this.batcher.maxChars);
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
    return text;
  }

  /** @internal */
  written(seq: number | null, text: string, ts: number): void {
    if (!this.closed) this.onWritten(seq, text, ts);
  }
}
