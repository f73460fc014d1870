import type { ChunkStore, ReplyRef, StreamEvent } from "../../lib/streams/types";

/**
 * The simplest correct reader over the store contract: subscribe, wait until the subscription is
 * live, replay from the cursor, then apply live events, dropping what it already has.
 */
export async function readReplyUntilEnd(store: ChunkStore, ref: ReplyRef & { userId: string }, afterSeq: number) {
  const seqs: number[] = [];
  let text = "";
  let last = afterSeq;
  let resolveEnd: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    resolveEnd = resolve;
  });
  const live: StreamEvent[] = [];
  let replaying = true;
  const apply = (event: StreamEvent) => {
    if (event.messageId !== ref.messageId) return;
    if (event.type === "chunk" && event.seq > last) {
      if (event.seq !== last + 1) throw new Error(`gap: ${last} -> ${event.seq}`);
      last = event.seq;
      seqs.push(event.seq);
      text += event.text;
    }
    if (event.type === "done" || event.type === "error") resolveEnd();
  };
  const subscription = store.subscribe(
    { kind: "user", userId: ref.userId },
    {
      onEvent: (event) => (replaying ? live.push(event) : apply(event)),
    },
  );
  await subscription.ready;
  for (const chunk of await store.readChunks(ref, afterSeq)) {
    apply({
      type: "chunk",
      sessionId: ref.sessionId,
      messageId: ref.messageId,
      correlationId: "",
      attempt: 1,
      ...chunk,
    });
  }
  const state = await store.getState(ref);
  replaying = false;
  for (const event of live.splice(0)) apply(event);
  if (state?.final) apply(state.final);
  await ended;
  subscription.close();
  return { seqs, text };
}
