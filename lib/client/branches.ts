// A chat is a tree of messages (see docs/api.md, Branches): these pick what the page shows of it.
// Pure functions over the chat's messages in the server's order (parents before children).

export interface TreeMessage {
  id: string;
  /** null for a first message; undefined for a message known before branches (a flat chat). */
  parentId?: string | null;
  role: "user" | "assistant";
}

/**
 * The messages from the root to `leafId`: the branch on screen. With no leaf (or one not in the
 * chat) it ends at the last message. A message whose parent is not known (a chat cached before
 * branches, a reply the stream announced before its send's answer) follows the one before it.
 */
export function visibleBranch<M extends TreeMessage>(messages: readonly M[], leafId: string | null | undefined): M[] {
  if (messages.length === 0) return [];
  const byId = new Map(messages.map((message) => [message.id, message]));
  const parentOf = new Map<string, string | null>();
  messages.forEach((message, index) => {
    parentOf.set(message.id, message.parentId !== undefined ? message.parentId : (messages[index - 1]?.id ?? null));
  });
  let at = (leafId ? byId.get(leafId) : undefined) ?? messages.at(-1);
  const path: M[] = [];
  const seen = new Set<string>();
  while (at && !seen.has(at.id)) {
    seen.add(at.id);
    path.push(at);
    const parent = parentOf.get(at.id);
    at = parent ? byId.get(parent) : undefined;
  }
  return path.reverse();
}

/** A message's versions: the messages of its role beside it (same parent), in order, and its place among them. */
export function versionsOf<M extends TreeMessage>(
  messages: readonly M[],
  message: M,
): { ids: string[]; index: number } {
  if (message.parentId === undefined) return { ids: [message.id], index: 0 };
  const ids = messages
    .filter((other) => other.parentId === message.parentId && other.role === message.role)
    .map((other) => other.id);
  return { ids, index: Math.max(0, ids.indexOf(message.id)) };
}

/** `versionsOf` for any message of the chat, from one pass over it (not one pass per message shown). */
export function versionLookup<M extends TreeMessage>(
  messages: readonly M[],
): (message: M) => { ids: string[]; index: number } {
  const groups = new Map<string, string[]>();
  for (const message of messages) {
    if (message.parentId === undefined) continue;
    const key = `${message.role}:${message.parentId}`;
    const ids = groups.get(key);
    if (ids) ids.push(message.id);
    else groups.set(key, [message.id]);
  }
  return (message) => {
    if (message.parentId === undefined) return { ids: [message.id], index: 0 };
    const ids = groups.get(`${message.role}:${message.parentId}`) ?? [];
    return { ids, index: Math.max(0, ids.indexOf(message.id)) };
  };
}

/** Where the visible branch ends once `id` is chosen: its newest descendant, following the newest child down. */
export function leafUnder<M extends TreeMessage>(messages: readonly M[], id: string): string {
  const children = new Map<string, string[]>();
  for (const message of messages) {
    if (!message.parentId) continue;
    const list = children.get(message.parentId) ?? [];
    list.push(message.id);
    children.set(message.parentId, list);
  }
  let at = id;
  const seen = new Set<string>([at]);
  for (let next = children.get(at)?.at(-1); next && !seen.has(next); next = children.get(at)?.at(-1)) {
    seen.add(next);
    at = next;
  }
  return at;
}
