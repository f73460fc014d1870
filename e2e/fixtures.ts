import { test as base, expect, type Page } from "@playwright/test";
import { type Mode, type RunningApp, startApp } from "../tests/support/app";
import { type FakeAnthropic, startFakeAnthropic } from "../tests/support/fake-anthropic";
import { type OidcIssuer, startOidcIssuer } from "../tests/support/oidc-issuer";

export const normalize = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * A reply's words as a reader sees them once its Markdown is rendered: the syntax (fences and their
 * language, heading and list marks, emphasis, table rules) left out, words joined by one space. The
 * stored text and the shown text are compared this way: a missing, doubled or reordered chunk
 * changes the words, the rendering does not.
 */
export function wordsOf(text: string): string {
  return text
    .replace(/^\s*```.*$/gm, " ")
    .replace(/^\s{0,3}#{1,6}\s+/gm, " ")
    .replace(/^\s*(?:[-*+]|\d+[.)])\s+/gm, " ")
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .join(" ");
}

interface WorkerFixtures {
  /**
   * The model the app talks to: the mock (default), or the real Anthropic SDK against the local
   * fake server (`test.use({ provider: "anthropic" })`), whose `fakeAnthropic.requests` a test reads.
   */
  provider: "mock" | "anthropic";
  fakeAnthropic: FakeAnthropic | null;
  /** Sign-in with accounts: a local OpenID issuer the app is configured with (`test.use({ accounts: true })`). */
  accounts: boolean;
  /** Guest sign-in on (default) or off (`test.use({ guests: false })`: AUTH_GUEST=off). */
  guests: boolean;
  oidcIssuer: OidcIssuer | null;
  app: RunningApp;
}

// One running app per project (mode) and provider, shared by the tests that use it.
export const test = base.extend<{ chat: ChatPage }, WorkerFixtures>({
  provider: ["mock", { scope: "worker", option: true }],
  fakeAnthropic: [
    async ({ provider }, use) => {
      const fake = provider === "anthropic" ? await startFakeAnthropic() : null;
      await use(fake);
      await fake?.close();
    },
    { scope: "worker" },
  ],
  accounts: [false, { scope: "worker", option: true }],
  guests: [true, { scope: "worker", option: true }],
  oidcIssuer: [
    async ({ accounts }, use) => {
      const issuer = accounts ? await startOidcIssuer() : null;
      await use(issuer);
      await issuer?.close();
    },
    { scope: "worker" },
  ],
  app: [
    async ({ fakeAnthropic, oidcIssuer, guests }, use, workerInfo) => {
      const mode = (workerInfo.project.metadata as { mode: Mode }).mode;
      const env: Record<string, string> = {
        ...(fakeAnthropic ? { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: fakeAnthropic.url } : {}),
        ...oidcIssuer?.env,
        ...(guests ? {} : { AUTH_GUEST: "off" }),
      };
      const app = await startApp(mode, env);
      await use(app);
      await app.stop();
    },
    { scope: "worker", timeout: 120_000 },
  ],
  chat: async ({ page, app }, use) => {
    await use(new ChatPage(page, app.baseUrl));
  },
});
export { expect };

/** The chat as a person sees it, through the stable handles (labels and data attributes). */
export class ChatPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(path = "/") {
    await this.page.goto(`${this.baseUrl}${path}`);
    await expect(this.page.locator('[data-connection="connected"]')).toBeVisible();
  }

  get composer() {
    return this.page.getByRole("textbox", { name: "Message" });
  }

  async send(text: string) {
    await this.composer.fill(text);
    await this.composer.press("Enter");
  }

  /** Sends in a new chat and waits until the URL names it; returns its session id. */
  async startChat(text: string): Promise<string> {
    await this.page.goto(`${this.baseUrl}/`);
    await expect(this.page.locator('[data-connection="connected"]')).toBeVisible();
    await this.send(text);
    await this.page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
    return this.page.url().split("/").at(-1) ?? "";
  }

  assistant(index = -1) {
    const replies = this.page.locator('[data-role="assistant"]');
    return index < 0 ? replies.last() : replies.nth(index);
  }

  /** What the server stored for a reply (through the page's own session cookie); `content` as its words, like `textOf`. */
  async storedReply(sessionId: string, messageId: string): Promise<{ status: string; content: string; raw: string }> {
    const response = await this.page.request.get(`${this.baseUrl}/api/chat/status/${sessionId}/${messageId}`);
    const body = (await response.json()) as { status: string; content: string };
    return { ...body, content: wordsOf(body.content), raw: body.content };
  }

  /** The id of the (last) reply of a chat, from the server. */
  async replyIdOf(sessionId: string): Promise<string> {
    const response = await this.page.request.get(`${this.baseUrl}/api/chat/sessions/${sessionId}/messages`);
    const { messages } = (await response.json()) as { messages: Array<{ id: string; role: string }> };
    return messages.filter((m) => m.role === "assistant").at(-1)?.id ?? "";
  }

  /** A message's text as shown, as its words (see `wordsOf`). */
  async textOf(messageId: string): Promise<string> {
    return shownWords(this.page, messageId);
  }

  /** The page's IndexedDB cache (one database per signed-in user). */
  async cacheName(): Promise<string> {
    return `backchannel-${await this.page.evaluate(() => window.localStorage.getItem("backchannel:last-user"))}`;
  }

  /** What the cache holds: chat ids, and the ids of the chats with cached messages, each sorted. */
  async cached(): Promise<{ sessions: string[]; messageSessions: string[] }> {
    return this.page.evaluate(
      async (name) => {
        const db = await new Promise<IDBDatabase>((resolve) => {
          const request = indexedDB.open(name);
          request.onsuccess = () => resolve(request.result);
        });
        const read = <T>(store: string) =>
          new Promise<T[]>((resolve) => {
            const request = db.transaction(store).objectStore(store).getAll();
            request.onsuccess = () => resolve(request.result);
          });
        const sessions = await read<{ id: string }>("sessions");
        const messages = await read<{ sessionId: string }>("messages");
        db.close();
        return {
          sessions: sessions.map((s) => s.id).sort(),
          messageSessions: [...new Set(messages.map((m) => m.sessionId))].sort(),
        };
      },
      await this.cacheName(),
    );
  }

  /** Writes chats into the cache as another tab would: each with one message of its user. */
  async seedCache(chats: Array<{ id: string; title: string; at: string; lastAccessedAt: number }>): Promise<void> {
    await this.page.evaluate(
      async ([name, list]) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open(name);
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        const tx = db.transaction(["sessions", "messages"], "readwrite");
        for (const { id, title, at, lastAccessedAt } of list) {
          tx.objectStore("sessions").put({ id, title, createdAt: at, updatedAt: at, lastAccessedAt });
          tx.objectStore("messages").put({
            id: `m-${id}`,
            sessionId: id,
            role: "user",
            content: `hello from ${title}`,
            status: "completed",
            attempt: 0,
            seq: 0,
            createdAt: at,
            position: 0,
          });
        }
        await new Promise((resolve) => {
          tx.oncomplete = resolve;
        });
        db.close();
      },
      [await this.cacheName(), chats] as const,
    );
  }
}

/**
 * The words a message shows: its text nodes in order, a space at every block's edge (paragraphs,
 * list items, table cells, code blocks), the controls inside it (a code block's Copy button, its
 * language label: `button`, `[data-chrome]`) left out.
 */
export async function shownWords(page: Page, messageId: string): Promise<string> {
  const shown = await page.evaluate((id) => {
    const root = document.querySelector(`[data-message-id="${id}"] .text`);
    if (!root) return "";
    const BLOCKS = new Set([
      "P",
      "LI",
      "TD",
      "TH",
      "TR",
      "PRE",
      "DIV",
      "H1",
      "H2",
      "H3",
      "H4",
      "H5",
      "H6",
      "BR",
      "UL",
      "OL",
      "TABLE",
      "BLOCKQUOTE",
    ]);
    let out = "";
    const walk = (node: Node) => {
      if (node.nodeType === Node.TEXT_NODE) {
        out += node.textContent ?? "";
        return;
      }
      if (!(node instanceof HTMLElement)) return;
      if (node.tagName === "BUTTON" || node.hasAttribute("data-chrome")) return;
      const block = BLOCKS.has(node.tagName);
      if (block) out += " ";
      for (const child of node.childNodes) walk(child);
      if (block) out += " ";
    };
    walk(root);
    return out;
  }, messageId);
  return wordsOf(shown);
}
