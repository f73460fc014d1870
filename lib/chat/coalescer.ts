// Tokens arrive one by one; readers need them a few at a time. The coalescer gathers text and
// writes it out every `intervalMs` (or at once past `maxChars`), one write at a time, in order.
export class Coalescer {
  private buffer = "";
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly write: (text: string) => Promise<void>,
    private readonly intervalMs: number,
    private readonly maxChars: number,
  ) {}

  push(text: string): void {
    if (this.failure) throw this.failure;
    this.buffer += text;
    if (this.buffer.length >= this.maxChars) this.flushNow();
    else if (!this.timer) this.timer = setTimeout(() => this.flushNow(), this.intervalMs);
  }

  private flushNow() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = "";
    this.writing = this.writing
      .then(() => (this.failure ? undefined : this.write(text)))
      .catch((error: unknown) => {
        this.failure = error;
      });
  }

  /** Writes what is left and waits for every write; throws the first write failure. */
  async flush(): Promise<void> {
    this.flushNow();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  /** Drops what is buffered (the attempt was abandoned). */
  discard(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buffer = "";
  }
}
