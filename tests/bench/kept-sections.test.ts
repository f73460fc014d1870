import { describe, expect, it } from "vitest";
import { keptSections } from "../../bench/kept-sections";

describe("the sections a full bench run keeps in docs/benchmarks.md", () => {
  it("keeps the cached-chat section whole, up to the next section or the end, and nothing else", () => {
    const section = "## Opening a cached chat in the browser\n\n| case | p50 |\n|---|--:|\n| reload | 140 |";
    expect(keptSections(`# Benchmarks\n\nrun figures\n\n${section}\n\n## CPU per send\n\nmore`)).toEqual([section, ""]);
    expect(keptSections(`# Benchmarks\n\n${section}\n`)).toEqual([section, ""]);
    expect(keptSections("# Benchmarks\n\n## CPU per send\n")).toEqual([]);
  });

  it("keeps the CPU per token section too, in the order of KEPT_HEADINGS", () => {
    const cached = "## Opening a cached chat in the browser\n\ncached";
    const cpu = "## CPU per delivered token\n\n| process | ms |";
    expect(keptSections(`# Benchmarks\n\n${cpu}\n\n## CPU per send\n\nx\n\n${cached}\n`)).toEqual([
      cached,
      "",
      cpu,
      "",
    ]);
  });
});
