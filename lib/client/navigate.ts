/**
 * Switches chats without a server round trip (Next.js keeps usePathname in step with pushState),
 * so switching works offline and the chat shell, with its one stream, never remounts.
 */
export function navigate(path: string): void {
  if (window.location.pathname !== path) window.history.pushState(null, "", path);
}

export function sessionIdFromPath(pathname: string | null): string | null {
  const match = /^\/chat\/([0-9a-f-]{36})$/i.exec(pathname ?? "");
  return match?.[1] ?? null;
}
