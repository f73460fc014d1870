// SSE readers that behave like careful clients under faults: they resume with their cursors after
// every disconnect, `reconnect` event or random cut, move to the other web process when one does not
// answer, and keep going until every reply they follow has ended (or the run's deadline passes).
import { openSse, type SseFrame, type SseReader, wallAt } from "../../bench/http";
import type { ApiClient, SseEvent } from "../../tests/support/client";
import { between, type Random, sleep } from "./options";
import { ReplyView } from "./reply-view";

/** What every reader watches: whether more replies can come, and when to give up. */
export interface RunState {
  sendsDone: boolean;
  deadline: number;
}

export interface ReaderStats {
  connections: number;
  randomCuts: number;
  burstCuts: number;
  /** Connections that failed or broke (refused, reset by a killed process, non-200). */
  failures: number;
  reconnectEvents: number;
  /** Events whose data was not JSON. */
  malformed: number;
}

abstract class Reader {
  readonly views = new Map<string, ReplyView>();
  /** The replies this reader must see to their end, in the order they were sent. */
  protected readonly expected: string[] = [];
  readonly stats: ReaderStats = {
    connections: 0,
    randomCuts: 0,
    burstCuts: 0,
    failures: 0,
    reconnectEvents: 0,
    malformed: 0,
  };
  private connection: SseReader | null = null;
  /** Failed connections by HTTP status or error code. */
  readonly failureReasons: Record<string, number> = {};
  /** What the reader is doing, for the progress line. */
  phase = "starting";
  private cutByBurst = false;

  constructor(
    readonly name: string,
    private readonly clients: readonly ApiClient[],
    private readonly random: Random,
    private readonly cutAfterMs: { min: number; max: number },
    protected readonly run: RunState,
  ) {}

  /** The request to (re)connect with, or null when there is nothing to follow for now. */
  protected abstract request(): { path: string; lastEventId?: string } | null;

  /** A sent reply this reader must follow (the sender tells it at the 202, as a page would). */
  expect(messageId: string, sessionId: string): void {
    this.viewOf(messageId, sessionId);
    if (!this.expected.includes(messageId)) this.expected.push(messageId);
  }

  protected viewOf(messageId: string, sessionId: string): ReplyView {
    let view = this.views.get(messageId);
    if (!view) {
      view = new ReplyView(messageId, sessionId);
      this.views.set(messageId, view);
    }
    return view;
  }

  protected unended(): ReplyView[] {
    return [...this.views.values()].filter((view) => !view.end);
  }

  /** How many replies this reader has not seen end yet. */
  waitingFor(): number {
    return this.unended().length;
  }

  private finished(): boolean {
    return Date.now() > this.run.deadline || (this.run.sendsDone && this.unended().length === 0);
  }

  /** Cuts the open connection now, as a dropped network does (a fault burst). */
  cut(): boolean {
    if (!this.connection) return false;
    this.cutByBurst = true;
    this.connection.close();
    return true;
  }

  async follow(): Promise<void> {
    let web = between(this.random, 0, this.clients.length - 1);
    while (!this.finished()) {
      const request = this.request();
      if (!request) {
        this.phase = "idle";
        await sleep(100);
        continue;
      }
      const client = this.clients[web];
      if (!client) return;
      const failuresBefore = this.stats.failures;
      const quietly = await this.connect(client, request);
      // Spread over both web processes at random; after a failure, the other one.
      const failed = this.stats.failures > failuresBefore;
      web = failed ? (web + 1) % this.clients.length : between(this.random, 0, this.clients.length - 1);
      this.phase = "backing off";
      await sleep(quietly ? between(this.random, 20, 200) : between(this.random, 200, 1_000));
    }
    this.phase = "finished";
  }

  /**
   * One connection, until it breaks, the server ends it, or it is cut. True when it was cut on purpose.
   * node:http with a socket of its own (bench/http.ts), so a cut really destroys the socket.
   */
  private async connect(client: ApiClient, request: { path: string; lastEventId?: string }): Promise<boolean> {
    const headers: Record<string, string> = { cookie: client.cookie };
    if (request.lastEventId) headers["last-event-id"] = request.lastEventId;
    // Frames still buffered when a connection is cut are not this reader's any more.
    let live = true;
    const connection = openSse(`${client.baseUrl}${request.path}`, headers, (frame, at) =>
      live ? this.onFrame(frame, Math.round(wallAt(at))) : true,
    );
    this.connection = connection;
    this.cutByBurst = false;
    let cutAtRandom = false;
    const timer = setTimeout(
      () => {
        cutAtRandom = true;
        connection.close();
      },
      between(this.random, this.cutAfterMs.min, this.cutAfterMs.max),
    );
    this.stats.connections++;
    // A 204 (nothing to send) is an answer; a refused connection or an error status is a failure.
    connection.opened.catch((error: unknown) => {
      const reason = /: (\d{3})$/.exec(String(error))?.[1] ?? ((error as { code?: string }).code || String(error));
      if (reason === "204") return;
      this.stats.failures++;
      this.failureReasons[reason] = (this.failureReasons[reason] ?? 0) + 1;
    });
    await connection.ended;
    live = false;
    clearTimeout(timer);
    this.connection = null;
    if (this.cutByBurst) this.stats.burstCuts++;
    else if (cutAtRandom) this.stats.randomCuts++;
    return this.cutByBurst || cutAtRandom;
  }

  private onFrame(frame: SseFrame, at: number): boolean {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(frame.data) as Record<string, unknown>;
    } catch {
      this.stats.malformed++;
      return false;
    }
    return this.onEvent({ event: frame.event, id: frame.id, data }, at);
  }

  /** Applies one event; true stops reading (a `reconnect`, or nothing left to follow). */
  private onEvent(event: SseEvent, at: number): boolean {
    if (event.event === "reconnect") {
      this.stats.reconnectEvents++;
      return true;
    }
    const messageId = typeof event.data.messageId === "string" ? event.data.messageId : null;
    const sessionId = typeof event.data.sessionId === "string" ? event.data.sessionId : "";
    if (messageId) this.viewOf(messageId, sessionId).apply(event, at);
    return this.finished();
  }
}

/** The all-sessions stream of one guest, resumed with `?cursors=` for every reply still running. */
export class UserReader extends Reader {
  protected request() {
    const cursors = this.unended().map((view) => view.cursor());
    return { path: cursors.length ? `/api/chat/stream?cursors=${cursors.join(",")}` : "/api/chat/stream" };
  }
}

/**
 * One session's stream, resumed with `Last-Event-ID` at the first reply (in send order) it has not
 * seen end: the server sends the rest of it, then every later reply of the session.
 */
export class SessionReader extends Reader {
  constructor(
    readonly sessionId: string,
    ...rest: ConstructorParameters<typeof Reader>
  ) {
    super(...rest);
  }

  protected request() {
    const first = this.expected.map((id) => this.views.get(id)).find((view) => view && !view.end);
    return first ? { path: `/api/chat/stream/${this.sessionId}`, lastEventId: first.cursor() } : null;
  }
}

export type AnyReader = UserReader | SessionReader;
