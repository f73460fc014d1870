import "server-only";
import { randomUUID } from "node:crypto";
import { AppError } from "../errors";
import { isUuid } from "../sse/cursor";

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

const WRITES = new Set(["POST", "PATCH", "PUT", "DELETE"]);

/**
 * The host a request was sent to, as a browser's Origin would name it (`header` reads a request
 * header); "" if none says. An empty X-Forwarded-Host says nothing: the Host header then does.
 */
export function requestHost(header: (name: string) => string | null | undefined): string {
  return header("x-forwarded-host") || header("host") || "";
}

/** A write from a page of another origin is refused; one with no Origin (not a browser) is allowed. */
export function checkOrigin(method: string | undefined, origin: string | null | undefined, host: string) {
  if (!method || !WRITES.has(method) || !origin) return;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (originHost !== host) throw new AppError(403, "forbidden_origin", "Requests from other sites are not allowed.");
}
