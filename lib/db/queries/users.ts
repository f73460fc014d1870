import "server-only";
import { sql } from "drizzle-orm";
import { allRows, getDb } from "../client";
import { chatSessions, type UserRow, users } from "../schema";

export async function createGuestUser({ name }: { name: string }): Promise<UserRow> {
  const db = await getDb();
  const [user] = await db.insert(users).values({ name, guest: true }).returning();
  if (!user) throw new Error("insert returned no user");
  return user;
}

/**
 * Deletes up to `limit` guests idle for `ttlDays` (signed up before then, and no chat of theirs
 * touched since: a send, a finished reply or a rename touches it), with their chats and messages
 * (the foreign keys cascade). The number deleted.
 */
export async function deleteIdleGuests({ ttlDays, limit }: { ttlDays: number; limit: number }): Promise<number> {
  const cutoff = sql`now() - make_interval(days => ${ttlDays}::int)`;
  const deleted = await allRows<{ id: string }>(sql`
    delete from ${users} where ${users.id} in (
      select u.id from ${users} u
      where u.guest and u.created_at < ${cutoff}
        and not exists (select 1 from ${chatSessions} s where s.user_id = u.id and s.updated_at >= ${cutoff})
      limit ${limit}
    )
    returning ${users.id}`);
  return deleted.length;
}
