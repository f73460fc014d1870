export * from "./checkpoints";
export * from "./replies";
export * from "./search";
export * from "./sessions";
export * from "./turns";
export * from "./users";
