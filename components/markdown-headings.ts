import type { Element, Root, RootContent } from "hast";

const HEADING = /^h([1-6])$/;

/**
 * Rehype plugin: a reply's headings sit under the chat's own <h1>, so its levels are renumbered
 * from <h2> on with no level skipped (a reply's "#", "###" become <h2>, <h3>), keeping their order
 * of rank. Screen readers' heading lists and axe's heading-order then read the page as one outline.
 */
export function rehypeHeadingLevels() {
  return (tree: Root) => {
    const headings: Element[] = [];
    const visit = (node: Root | RootContent) => {
      if (node.type === "element" && HEADING.test(node.tagName)) headings.push(node);
      if ("children" in node) for (const child of node.children) visit(child);
    };
    visit(tree);
    const levels = [...new Set(headings.map((h) => Number(h.tagName[1])))].sort((a, b) => a - b);
    for (const heading of headings) {
      const rank = levels.indexOf(Number(heading.tagName[1]));
      heading.tagName = `h${Math.min(2 + rank, 6)}`;
    }
  };
}
