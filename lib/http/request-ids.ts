import "server-only";
import { randomUUID } from "node:crypto";
import { isUuid } from "../chat/cursor";
import { AppError } from "../errors";

/** The request's X-Correlation-Id when it is a UUID, else a new one. */
export function correlationIdOf(given: string | null | undefined): string {
  return given && isUuid(given) ? given.toLowerCase() : randomUUID();
}

/** Path ids that are not UUIDs name nothing: 404, never 500. */
export function checkPathIds(params: Record<string, string | string[] | undefined>) {
  for (const [name, value] of Object.entries(params)) {
    if (name.endsWith("Id") && (typeof value !== "string" || !isUuid(value)))
      throw new AppError(404, "not_found", "Not found.");
  }
}
