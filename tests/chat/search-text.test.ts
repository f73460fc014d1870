import { describe, expect, it } from "vitest";
import { searchTermsOf, snippetOf } from "@/lib/chat/search-text";

const START = "\u0002";
const STOP = "\u0003";
const hit = (word: string) => `${START}${word}${STOP}`;

describe("searchTermsOf", () => {
  it("asks for the last word as a prefix too, so a word being typed finds", () => {
    expect(searchTermsOf("kayak tri")).toEqual({ words: "kayak ", prefix: "tri:*" });
    expect(searchTermsOf("Über")).toEqual({ words: "", prefix: "Über:*" });
  });
  it("leaves the query alone when its last word is in quotes, negated, after or, or not a plain word", () => {
    for (const query of [
      '"kayak tri',
      '"kayak trip"',
      "kayak -trip",
      "kayak or trip",
      "kayak OR  trip",
      "c++",
      "trip.",
    ])
      expect(searchTermsOf(query)).toEqual({ words: query, prefix: "" });
  });
});

describe("snippetOf", () => {
  it("turns the headline's marks into « and », and a « or » of the text into ‹ or ›", () => {
    expect(snippetOf(`Quotes «like these» around a ${hit("zephyr")}`, START, STOP)).toBe(
      "Quotes ‹like these› around a «zephyr»",
    );
  });
  it("is one line of text without the Markdown marks of a reply", () => {
    const headline = `## Setting ${hit("up")}\n\n- a **${hit("kayak")}** list\n\n\`\`\`ts\nconst ${hit("kayak")} = 1;\n\`\`\`\n\n| a | b |\n|---|:---:|\n| ${hit("kayak")} | \`x\` |`;
    expect(snippetOf(headline, START, STOP)).toBe("Setting «up» a «kayak» list const «kayak» = 1; a b «kayak» x");
  });
  it("drops emphasis stars but keeps a star between words", () => {
    expect(snippetOf(`Here is *deploy ${hit("postgres")}*, and 2 * 3.`, START, STOP)).toBe(
      "Here is deploy «postgres», and 2 * 3.",
    );
  });
  it("keeps HTML as the text it is", () => {
    expect(snippetOf(`<b>${hit("bold")}</b> & more`, START, STOP)).toBe("<b>«bold»</b> & more");
  });
});
