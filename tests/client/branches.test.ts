import { describe, expect, it } from "vitest";
import { leafUnder, type TreeMessage, versionLookup, versionsOf, visibleBranch } from "../../lib/client/branches";

// q1 → a1, a1' (a regenerate); a1 → q2 → a2; q2' (an edit of q2) → a3; q1' (an edit of q1, a new root) → a4.
const m = (id: string, parentId: string | null, role: TreeMessage["role"]): TreeMessage => ({ id, parentId, role });
const chat = [
  m("q1", null, "user"),
  m("a1", "q1", "assistant"),
  m("q2", "a1", "user"),
  m("a2", "q2", "assistant"),
  m("a1'", "q1", "assistant"),
  m("q2'", "a1", "user"),
  m("a3", "q2'", "assistant"),
  m("q1'", null, "user"),
  m("a4", "q1'", "assistant"),
];
const ids = (list: TreeMessage[]) => list.map((message) => message.id);

describe("the branch a chat shows", () => {
  it("is the path from the root to the visible leaf", () => {
    expect(ids(visibleBranch(chat, "a2"))).toEqual(["q1", "a1", "q2", "a2"]);
    expect(ids(visibleBranch(chat, "a3"))).toEqual(["q1", "a1", "q2'", "a3"]);
    expect(ids(visibleBranch(chat, "a1'"))).toEqual(["q1", "a1'"]);
    expect(ids(visibleBranch(chat, "a4"))).toEqual(["q1'", "a4"]);
  });

  it("ends at the last message when the leaf is unknown; a message of unknown parent follows the one before it", () => {
    expect(ids(visibleBranch(chat, "gone"))).toEqual(["q1'", "a4"]);
    expect(ids(visibleBranch(chat, null))).toEqual(["q1'", "a4"]);
    const flat = [
      { id: "x", role: "user" as const },
      { id: "y", role: "assistant" as const },
    ];
    expect(ids(visibleBranch(flat, null))).toEqual(["x", "y"]);
    expect(visibleBranch([], "x")).toEqual([]);
    // A reply the stream announced before its send's answer (no parent yet) does not flatten the tree.
    const announced = [...chat.slice(0, 5), m("q3", "a1'", "user"), { id: "a5", role: "assistant" as const }];
    expect(ids(visibleBranch(announced, "a5"))).toEqual(["q1", "a1'", "q3", "a5"]);
    expect(ids(visibleBranch(announced, "a2"))).toEqual(["q1", "a1", "q2", "a2"]);
  });

  it("numbers a message's versions among the messages of its role beside it", () => {
    expect(versionsOf(chat, m("a1'", "q1", "assistant"))).toEqual({ ids: ["a1", "a1'"], index: 1 });
    expect(versionsOf(chat, m("q2", "a1", "user"))).toEqual({ ids: ["q2", "q2'"], index: 0 });
    expect(versionsOf(chat, m("q1'", null, "user"))).toEqual({ ids: ["q1", "q1'"], index: 1 });
    expect(versionsOf(chat, m("a2", "q2", "assistant"))).toEqual({ ids: ["a2"], index: 0 });
  });

  it("numbers every message's versions the same from one pass over the chat", () => {
    const versionsIn = versionLookup(chat);
    for (const message of chat) expect(versionsIn(message)).toEqual(versionsOf(chat, message));
    const flat = { id: "x", role: "user" as const };
    expect(versionLookup([flat])(flat)).toEqual({ ids: ["x"], index: 0 });
  });

  it("goes down to the newest leaf under a chosen version", () => {
    expect(leafUnder(chat, "a1")).toBe("a3");
    expect(leafUnder(chat, "q2")).toBe("a2");
    expect(leafUnder(chat, "q1")).toBe("a1'");
    expect(leafUnder(chat, "a4")).toBe("a4");
  });
});
