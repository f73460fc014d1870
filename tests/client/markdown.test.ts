import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown } from "@/components/markdown";

const render = (text: string, streaming = false) => renderToStaticMarkup(createElement(Markdown, { text, streaming }));

describe("a reply rendered as Markdown", () => {
  it("opens links in a new tab that learns nothing of the chat", () => {
    expect(render("See [the docs](https://example.com/docs).")).toContain(
      '<a href="https://example.com/docs" target="_blank" rel="noopener noreferrer">the docs</a>',
    );
  });
  it("labels a code block with the language its author wrote", () => {
    const html = render("```python\nprint('hi')\n```");
    expect(html).toContain('<span class="language">python</span>');
    expect(html).toContain('aria-label="Copy code"');
  });
  it("shows a code block whose fence is still open as code while it streams", () => {
    const html = render("Here:\n```ts\nconst a = 1;\n``", true);
    expect(html).toMatch(/<pre[^>]*><code class="[^"]*language-ts[^"]*">/);
    expect(html).not.toContain("``");
  });
  it("renders a finished text kept from before the same as the first time, and another text as itself", () => {
    const first = render("A *kept* reply.\n\n- one\n- two");
    const other = render("A _kept_ answer.\n\n1. one");
    expect(render("A *kept* reply.\n\n- one\n- two")).toBe(first);
    expect(other).toContain("<ol>");
    expect(first).toContain("<em>kept</em>");
    expect(first).not.toBe(other);
  });
});
