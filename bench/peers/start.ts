// Starts a peer server (bench/peers/server.ts) as a child process and waits for its port.
import { type ChildProcess, spawn } from "node:child_process";
import type { System } from "../scenarios";

export type PeerKind = "floor" | "durable" | "resumable";

export interface Peer {
  system: System;
  child: ChildProcess;
}

export async function startPeer(kind: PeerKind, env: Record<string, string> = {}): Promise<Peer> {
  const nodeArgs = (process.env.PEER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "bench/peers/server.ts"], {
    env: { ...process.env, PEER_KIND: kind, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  // The floor and the durable floor are both a "floor" to the load: the same HTTP interface.
  const systemKind = kind === "resumable" ? "resumable" : "floor";
  return { system: { kind: systemKind, baseUrl: `http://127.0.0.1:${port}` }, child };
}

export function stopPeer(peer: Peer): Promise<void> {
  return new Promise((resolve) => {
    if (peer.child.exitCode !== null) return resolve();
    peer.child.once("exit", () => resolve());
    peer.child.kill("SIGTERM");
  });
}
