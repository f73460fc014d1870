import { describe, expect, it } from "vitest";
import { RunningReplies } from "../../lib/worker/running";

// Two runs of one reply can overlap in a process (an old attempt still winding down when a newer
// one starts): whatever the old one does must leave the newer one alone.
describe("the replies a worker process is writing", () => {
  it("an old run that ends or is refused does not stop or forget the newer run of the same reply", () => {
    const running = new RunningReplies();
    const old = running.start("reply");
    const newer = running.start("reply");
    running.stopRun(old, "superseded");
    expect(old.controller.signal.aborted).toBe(true);
    expect(newer.controller.signal.aborted).toBe(false);
    running.end("reply", old);
    expect(running.size).toBe(1);
    // A cancel reaches the run that is registered now.
    expect(running.stop("reply", "cancelled")).toBe(true);
    expect(newer.reason).toBe("cancelled");
    running.end("reply", newer);
    expect(running.size).toBe(0);
  });
});
