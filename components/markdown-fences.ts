import type { Element, Root, RootContent } from "hast";

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * A reply cut mid-way through a code block (it is still streaming) gets the fence closed, and a
 * half-typed closing fence ("`" or "``") on its last line is dropped, so the block shows as code
 * from its first line on and no stray backticks flash in it before the real fence arrives.
 */
export function closeOpenFence(text: string): string {
  let open: string | null = null;
  const lines = text.split("\n");
  for (const line of lines) {
    const fence = FENCE.exec(line)?.[1];
    if (!fence) continue;
    if (open === null) open = fence;
    else if (fence[0] === open[0] && fence.length >= open.length && line.trim() === fence) open = null;
  }
  if (open === null) return text;
  const last = lines.at(-1) ?? "";
  const body = /^ {0,3}(`{1,2}|~{1,2})$/.test(last) ? lines.slice(0, -1) : lines;
  return `${body.join("\n")}\n${open}`;
}

/**
 * Rehype plugin, run before highlighting: puts a block's own language (```ts) on its <pre> as
 * data-language, so the label shows what the author wrote, not what highlight.js guessed.
 */
export function rehypeCodeLanguage() {
  return (tree: Root) => {
    const visit = (node: Root | RootContent) => {
      if (!("children" in node)) return;
      for (const child of node.children) {
        if (node.type === "element" && node.tagName === "pre" && child.type === "element") markLanguage(node, child);
        visit(child);
      }
    };
    visit(tree);
  };
}

function markLanguage(pre: Element, code: Element) {
  if (code.tagName !== "code") return;
  const classes = Array.isArray(code.properties.className) ? code.properties.className : [];
  const language = classes.map(String).find((name) => name.startsWith("language-"));
  if (language) pre.properties.dataLanguage = language.slice("language-".length);
}
