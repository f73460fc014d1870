import { describe, expect, it } from "vitest";
import { chatAsMarkdown, exportFileName } from "@/components/chat-export";
import { groupSessionsByDate, longTime, shortTime } from "@/components/dates";
import { localMessage } from "@/lib/client/chat-store";

describe("groupSessionsByDate", () => {
  const now = new Date(2026, 11, 2, 15, 0);
  const on = (month: number, day: number, hour = 12) => new Date(2026, month, day, hour).toISOString();
  const session = (id: string, updatedAt: string) => ({ id, title: id, createdAt: updatedAt, updatedAt });
  it("puts each chat under Today, Yesterday, Previous 7 days or Older, keeping the list's order", () => {
    const sessions = [
      session("today-late", on(11, 2, 14)),
      session("yesterday", on(11, 1, 23)),
      session("today-early", on(11, 2, 0)),
      session("week", on(10, 25)),
      session("older", on(10, 20)),
    ];
    const groups = groupSessionsByDate(sessions, now).map((g) => [g.label, g.sessions.map((s) => s.id)]);
    expect(groups).toEqual([
      ["Today", ["today-late", "today-early"]],
      ["Yesterday", ["yesterday"]],
      ["Previous 7 days", ["week"]],
      ["Older", ["older"]],
    ]);
  });
  it("leaves out empty groups", () => {
    expect(groupSessionsByDate([session("x", on(11, 2))], now).map((g) => g.label)).toEqual(["Today"]);
  });
});

describe("chatAsMarkdown", () => {
  it("writes the title and each message as a You or Assistant block", () => {
    const messages = [
      localMessage("u1", "s", "user", "Hello there", "completed"),
      localMessage("a1", "s", "assistant", "Hi! **Bold**", "completed"),
      localMessage("a2", "s", "assistant", "", "queued"),
    ];
    expect(chatAsMarkdown("Greetings", messages)).toBe(
      "# Greetings\n\n**You**:\n\nHello there\n\n**Assistant**:\n\nHi! **Bold**\n",
    );
  });
  it("names the file after the title, without characters file systems refuse", () => {
    expect(exportFileName("What is a/b?")).toBe("What is a-b-.md");
    expect(exportFileName("  ")).toBe("chat.md");
  });
});

describe("a message's time", () => {
  const now = new Date(2026, 11, 2, 15, 0);
  const time = (date: Date) => date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  it("is the time alone today, and the day and the time another day", () => {
    const today = new Date(2026, 11, 2, 9, 5);
    const before = new Date(2026, 10, 28, 18, 30);
    expect(shortTime(today.toISOString(), now)).toBe(time(today));
    const day = before.toLocaleDateString(undefined, { day: "numeric", month: "short" });
    expect(shortTime(before.toISOString(), now)).toBe(`${day}, ${time(before)}`);
  });
  it("is written out in full on hover", () => {
    const at = new Date(2026, 10, 28, 18, 30);
    expect(longTime(at.toISOString())).toBe(at.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" }));
  });
});
