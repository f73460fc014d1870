// Sections of docs/benchmarks.md that other benches' figures fill by hand (bench/cached-chat.ts
// runs in a browser, bench/cpu-per-token.ts runs the delivery load alone, bench/replay-memory.ts
// measures one process's memory: none is in this run): `npm
// run bench -- --full` rewrites the file around them and keeps each of these as it was.
import { readFileSync } from "node:fs";

export const KEPT_HEADINGS = [
  "## Opening a cached chat in the browser",
  "## What a page's CSP nonce costs",
  "## CPU per delivered token",
  "## A replay's memory",
];

/** The kept sections of `doc`, each from its heading to the next `## ` heading, each followed by a blank line. */
export function keptSections(doc: string): string[] {
  return KEPT_HEADINGS.flatMap((heading) => {
    const start = doc.indexOf(`\n${heading}\n`);
    if (start < 0) return [];
    const next = doc.indexOf("\n## ", start + 1);
    return [doc.slice(start + 1, next < 0 ? undefined : next).trimEnd(), ""];
  });
}

/** The kept sections of the file at `file` (none when it does not exist yet). */
export function keptSectionsOf(file: string): string[] {
  try {
    return keptSections(readFileSync(file, "utf8"));
  } catch {
    return [];
  }
}
