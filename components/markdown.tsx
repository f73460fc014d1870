"use client";

import { type ComponentPropsWithoutRef, memo, useRef, useState } from "react";
import ReactMarkdown, { type Components, type Options } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { closeOpenFence, rehypeCodeLanguage } from "./markdown-fences";

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

// A reply's links lead away from the chat: a new tab, and the page opened learns nothing of this one.
function Link({ node: _node, ...props }: ComponentPropsWithoutRef<"a"> & { node?: unknown }) {
  return <a {...props} target="_blank" rel="noopener noreferrer" />;
}

const components: Components = { pre: CodeBlock, a: Link };
const remarkPlugins: Options["remarkPlugins"] = [remarkGfm];
const rehypePlugins: Options["rehypePlugins"] = [rehypeCodeLanguage, [rehypeHighlight, { detect: true }]];

/**
 * A message as Markdown (GitHub flavour), code highlighted. Raw HTML in the text is not rendered.
 * While `streaming`, a code block whose closing fence has not arrived yet already shows as code.
 */
export const Markdown = memo(function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  return (
    <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
      {streaming ? closeOpenFence(text) : text}
    </ReactMarkdown>
  );
});
