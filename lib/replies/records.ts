import type * as queries from "../db/queries";

/**
 * What the lifecycle reads and writes in the database. The app passes the real queries
 * (`lib/db/queries`, Postgres or PGlite, whichever the process opened); the lifecycle's tests pass
 * the same, against PGlite and against Postgres.
 */
export type ReplyRecords = Pick<
  typeof queries,
  | "claimReply"
  | "completeReply"
  | "endReply"
  | "getReplyById"
  | "getNextReplyInSession"
  | "startReplyAttempt"
  | "setReplyContent"
  | "listQuietRunningReplies"
  | "listAllRunningReplies"
  | "extendReplyCheckpoints"
>;
