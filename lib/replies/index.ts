import "server-only";
import * as queries from "../db/queries";
import { getReplyQueue } from "../queue/index";
import { getChunkStore } from "../streams/index";
import { ReplyLifecycle } from "./lifecycle";

export type { Claim, Completion, Failure, ReplyIdentity, TextSoFar } from "./lifecycle";
export { ReplyLifecycle } from "./lifecycle";

const cache = globalThis as unknown as {
  __backchannelLifecycle?: { lifecycle: ReplyLifecycle; store: unknown; queue: unknown };
};

/** The reply lifecycle of this process, on its store, queue and database. */
export async function getReplyLifecycle(): Promise<ReplyLifecycle> {
  const store = await getChunkStore();
  const queue = getReplyQueue();
  const cached = cache.__backchannelLifecycle;
  // Made again when a test or a hot reload replaced the store or the queue.
  if (cached?.store === store && cached.queue === queue) return cached.lifecycle;
  const lifecycle = new ReplyLifecycle({ store, queue, records: queries });
  cache.__backchannelLifecycle = { lifecycle, store, queue };
  return lifecycle;
}
