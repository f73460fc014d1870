import "server-only";
import { and, eq, sql } from "drizzle-orm";
import { allRows, getDb } from "../client";
import { accounts, chatSessions, messages, type UserRow, users } from "../schema";

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

export interface ProviderAccount {
  provider: string;
  providerAccountId: string;
  name: string;
  email: string | null;
}

/**
 * The user a provider account signs in as: found by the provider's id for the account (its name
 * and email brought up to date), or made on its first sign-in. With `guestId`, the guest signed
 * in in that browser: its chats and messages move to the account (beside the account's own) and
 * the guest goes. Another account's user is never merged, nor is an account merged into itself.
 */
export async function signInAccount(account: ProviderAccount, guestId: string | null): Promise<UserRow> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [known] = await tx
      .select({ user: users })
      .from(accounts)
      .innerJoin(users, eq(users.id, accounts.userId))
      .where(and(eq(accounts.provider, account.provider), eq(accounts.providerAccountId, account.providerAccountId)));
    let user: UserRow | undefined;
    if (known) {
      [user] = await tx
        .update(users)
        .set({ name: account.name, email: account.email })
        .where(eq(users.id, known.user.id))
        .returning();
    } else {
      [user] = await tx.insert(users).values({ name: account.name, email: account.email, guest: false }).returning();
      if (user)
        await tx
          .insert(accounts)
          .values({ provider: account.provider, providerAccountId: account.providerAccountId, userId: user.id });
    }
    if (!user) throw new Error("the account's user was not written");
    if (guestId && guestId !== user.id) {
      const [guest] = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, guestId), eq(users.guest, true)));
      if (guest) {
        await tx.update(chatSessions).set({ userId: user.id }).where(eq(chatSessions.userId, guest.id));
        await tx.update(messages).set({ userId: user.id }).where(eq(messages.userId, guest.id));
        await tx.delete(users).where(eq(users.id, guest.id));
      }
    }
    return user;
  });
}
