import type { ClientMessage } from "@/lib/client/chat-store";

/** A chat as Markdown: its title, then each message as a `**You**:` or `**Assistant**:` block. */
export function chatAsMarkdown(title: string, messages: readonly ClientMessage[]): string {
  const blocks = messages
    .filter((message) => message.content.trim())
    .map((message) => `**${message.role === "user" ? "You" : "Assistant"}**:\n\n${message.content.trim()}`);
  return `# ${title}\n\n${blocks.join("\n\n")}\n`;
}

/** A file name from a chat title: characters file systems refuse become "-", never empty. */
export function exportFileName(title: string): string {
  // Titles are one line already (the server folds whitespace): only the refused characters remain.
  const safe = title.replace(/[\\/:*?"<>|]+/g, "-").trim();
  return `${safe || "chat"}.md`;
}

/** Saves text as a download, the browser's own way (an object URL on a clicked link). */
export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/markdown;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the link by now; the URL can go a moment later.
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}
