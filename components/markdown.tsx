"use client";

import { type ComponentPropsWithoutRef, memo, type ReactElement, useRef, useState } from "react";
import renderMarkdown, { type Components, type Options } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { closeOpenFence, rehypeCodeLanguage } from "./markdown-fences";
import { rehypeHeadingLevels } from "./markdown-headings";

type PreProps = ComponentPropsWithoutRef<"pre"> & { "data-language"?: string; node?: unknown };

function CodeBlock({ node: _node, "data-language": language, ...props }: PreProps) {
  const ref = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard?.writeText(ref.current?.textContent ?? "").catch(() => {});
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div className="code-block">
      <div className="code-bar" data-chrome>
        <span className="language">{language ?? "code"}</span>
        <button type="button" className="copy" onClick={copy} aria-label="Copy code">
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a long line scrolls sideways, and the keyboard must reach it to scroll it (WCAG 2.1.1, axe's scrollable-region-focusable) */}
      <pre ref={ref} tabIndex={0} {...props} />
    </div>
  );
}

// A reply's links lead away from the chat: a new tab, the page opened learns nothing of this one,
// and a model's link earns its target no standing with search engines.
const LINK_REL = "noopener noreferrer nofollow";

function Link({ node: _node, ...props }: ComponentPropsWithoutRef<"a"> & { node?: unknown }) {
  return <a {...props} target="_blank" rel={LINK_REL} />;
}

// Model output never loads a remote resource by itself: an image would fetch its URL (and whatever
// a prompt-injected reply put in it) with no click. It shows as a link the person may follow.
function Image({ node: _node, src, alt, title }: ComponentPropsWithoutRef<"img"> & { node?: unknown }) {
  const label = alt?.trim() || "image";
  if (typeof src !== "string" || !src) return <span className="image-link">🖼 {label}</span>;
  return (
    <a className="image-link" href={src} title={title ?? src} target="_blank" rel={LINK_REL}>
      <span aria-hidden="true">🖼 </span>
      {label}
    </a>
  );
}

// A wide table scrolls sideways inside the bubble instead of breaking its words letter by letter on
// a phone; the keyboard reaches it to scroll it, as it does a code block.
function Table({ node: _node, ...props }: ComponentPropsWithoutRef<"table"> & { node?: unknown }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by the keyboard (WCAG 2.1.1, as the code block's <pre>)
    <div className="table-scroll" tabIndex={0}>
      <table {...props} />
    </div>
  );
}

const components: Components = { pre: CodeBlock, a: Link, img: Image, table: Table };
const remarkPlugins: Options["remarkPlugins"] = [remarkGfm];
// rehype-highlight builds its highlighter (registering its ~37 languages) each time the plugin is
// attached, and react-markdown attaches every plugin for every text it renders: a 200-message chat
// built 100 highlighters, about a fifth of its first render. One highlighter serves every text.
const highlight = rehypeHighlight({ detect: true });
const rehypePlugins: Options["rehypePlugins"] = [rehypeCodeLanguage, rehypeHeadingLevels, () => highlight];

// A finished text renders the same every time: its React elements are kept (the most recently used
// CACHE_SIZE texts), so opening a chat again, or the list re-rendering, parses nothing again.
// Keyed by the text itself, so an edit or a new version is a new entry, never a stale one.
const CACHE_SIZE = 600;
const rendered = new Map<string, ReactElement>();

// react-markdown's synchronous component is a plain function of its props (no hooks): called
// directly it gives the elements, which can then be kept.
function toElements(text: string): ReactElement {
  return renderMarkdown({ children: text, remarkPlugins, rehypePlugins, components });
}

function cachedElements(text: string): ReactElement {
  const hit = rendered.get(text);
  if (hit) {
    rendered.delete(text); // re-inserted: the Map's order is the order of use
    rendered.set(text, hit);
    return hit;
  }
  const elements = toElements(text);
  rendered.set(text, elements);
  if (rendered.size > CACHE_SIZE) rendered.delete(rendered.keys().next().value ?? "");
  return elements;
}

/**
 * A message as Markdown (GitHub flavour), code highlighted. Raw HTML in the text is not rendered.
 * While `streaming`, a code block whose closing fence has not arrived yet already shows as code
 * (and the growing text is not cached: each chunk makes a new one).
 */
export const Markdown = memo(function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  return streaming ? toElements(closeOpenFence(text)) : cachedElements(text);
});
