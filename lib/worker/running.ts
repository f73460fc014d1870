// The replies this process is writing, so a cancellation or a shutdown can stop their model calls.
export type StopReason = "cancelled" | "shutdown" | "superseded";

interface RunningReply {
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

  end(messageId: string): void {
    this.replies.delete(messageId);
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
