import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENV_VARIABLES } from "../../lib/env";

// A variable the app reads and the README does not name is one a deployer cannot know to set.
describe("the README", () => {
  const readme = readFileSync(path.join(import.meta.dirname, "../../README.md"), "utf8");
  const table = readme.slice(readme.indexOf("## Environment variables"), readme.indexOf("## Operations"));

  it("names every variable lib/env.ts reads in its Environment variables table", () => {
    const missing = ENV_VARIABLES.filter((name) => !table.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
