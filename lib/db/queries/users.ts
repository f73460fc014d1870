import "server-only";
import { getDb } from "../client";
import { type UserRow, users } from "../schema";

export async function createGuestUser({ name }: { name: string }): Promise<UserRow> {
  const db = await getDb();
  const [user] = await db.insert(users).values({ name, guest: true }).returning();
  if (!user) throw new Error("insert returned no user");
  return user;
}
