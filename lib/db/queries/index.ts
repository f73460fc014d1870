export * from "./checkpoints";
export * from "./replies";
export * from "./sessions";
export * from "./turns";
export * from "./users";
