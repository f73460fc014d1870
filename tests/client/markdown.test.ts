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
});
