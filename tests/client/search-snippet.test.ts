import { describe, expect, it } from "vitest";
import { snippetParts } from "@/lib/client/search-snippet";

describe("snippetParts", () => {
  it("splits a snippet into text and matches, marks left out", () => {
    expect(snippetParts("Our «kayaking» trip, «two» boats")).toEqual([
      { text: "Our ", match: false },
      { text: "kayaking", match: true },
      { text: " trip, ", match: false },
      { text: "two", match: true },
      { text: " boats", match: false },
    ]);
  });
  it("copes with marks a server got wrong: an open one runs to the end, a stray close is dropped", () => {
    expect(snippetParts("a » b «c")).toEqual([
      { text: "a ", match: false },
      { text: " b ", match: false },
      { text: "c", match: true },
    ]);
    expect(snippetParts("<img src=x onerror=alert(1)>")).toEqual([
      { text: "<img src=x onerror=alert(1)>", match: false },
    ]);
  });
});
