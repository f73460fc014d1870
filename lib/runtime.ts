// Which kind of process this is. The standalone worker says so at start; everything else is "web".
export type ProcessRole = "web" | "worker";

const state = globalThis as unknown as { __backchannelRole?: ProcessRole };

export function setProcessRole(role: ProcessRole): void {
  state.__backchannelRole = role;
}

export function processRole(): ProcessRole {
  return state.__backchannelRole ?? "web";
}
