import { describe, expect, it } from "vitest";
import { closeOpenFence } from "@/components/markdown-fences";

describe("closeOpenFence", () => {
  it("closes a code block whose closing fence has not arrived", () => {
    expect(closeOpenFence("Look:\n```ts\nconst a = 1;")).toBe("Look:\n```ts\nconst a = 1;\n```");
  });
  it("drops a half-typed closing fence so no backticks show inside the code", () => {
    expect(closeOpenFence("```\nx\n``")).toBe("```\nx\n```");
  });
  it("leaves closed blocks and plain text alone", () => {
    for (const text of ["```py\nx\n```\nafter", "no code", "````\n```\n````"]) expect(closeOpenFence(text)).toBe(text);
  });
  it("closes with the opening fence's own length and character", () => {
    expect(closeOpenFence("~~~~\nx\n```")).toBe("~~~~\nx\n```\n~~~~");
  });
});
