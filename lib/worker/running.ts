// The replies this process is writing, so a cancellation or a shutdown can stop their model calls.
export type StopReason = "cancelled" | "shutdown" | "superseded";

export interface RunningReply {
  controller: AbortController;
  reason: StopReason | null;
}

export class RunningReplies {
  private readonly replies = new Map<string, RunningReply>();

  get size(): number {
    return this.replies.size;
  }

  start(messageId: string): RunningReply {
    const reply: RunningReply = { controller: new AbortController(), reason: null };
    this.replies.set(messageId, reply);
    return reply;
  }

  /** Forgets a run, only if it is still the one registered (a newer run of the reply may have replaced it). */
  end(messageId: string, run: RunningReply): void {
    if (this.replies.get(messageId) === run) this.replies.delete(messageId);
  }

  /** Stops this one run: a run whose write was refused must not stop a newer run of the same reply. */
  stopRun(run: RunningReply, reason: StopReason): void {
    run.reason ??= reason;
    run.controller.abort(reason);
  }

  stop(messageId: string, reason: StopReason): boolean {
    const reply = this.replies.get(messageId);
    if (!reply) return false;
    reply.reason ??= reason;
    reply.controller.abort(reason);
    return true;
  }

  stopAll(reason: StopReason): void {
    for (const id of this.replies.keys()) this.stop(id, reason);
  }
}
