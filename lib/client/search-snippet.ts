import { SNIPPET_MARK_END, SNIPPET_MARK_START } from "../contract";

export interface SnippetPart {
  text: string;
  /** A match: shown in a <mark>. */
  match: boolean;
}

/**
 * A search snippet's text split at its marks (docs/api.md, Search), for rendering as text nodes
 * and <mark> elements: never as HTML. A mark left open runs to the end; a stray close is dropped.
 */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let match = false;
  let text = "";
  const flush = () => {
    if (text) parts.push({ text, match });
    text = "";
  };
  for (const char of snippet) {
    if (char === SNIPPET_MARK_START || char === SNIPPET_MARK_END) {
      flush();
      match = char === SNIPPET_MARK_START;
    } else text += char;
  }
  flush();
  return parts;
}
