import "server-only";
import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { AppError } from "../errors";

export const MAX_BODY_BYTES = 1_000_000;

async function readText(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString("utf8");
}

/** The same for Node's request; past the limit the rest is read and dropped, so the 413 can still be sent. */
function readNodeText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? "0") > MAX_BODY_BYTES) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      if (size > MAX_BODY_BYTES) return;
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        parts.length = 0;
        reject(tooLarge());
      } else parts.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

function tooLarge() {
  return new AppError(413, "payload_too_large", "The request body is larger than 1 MB.");
}

/** Fields of a zod error as `{name: what is wrong}`. */
export function fieldsOf(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const name = issue.path.join(".") || "body";
    fields[name] ??= issue.message;
  }
  return fields;
}

export function invalid(error: z.ZodError): AppError {
  return new AppError(400, "invalid_request", "Some fields of the request are not valid.", { fields: fieldsOf(error) });
}

function parseJson<T extends z.ZodType>(text: string, schema: T): z.infer<T> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AppError(400, "invalid_json", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

/** Reads a JSON body (at most 1 MB) and checks it against `schema`. */
export async function readJson<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  return parseJson(await readText(request), schema);
}

/** A Node request's body as text (at most 1 MB, else 413). */
export function readNodeBody(req: IncomingMessage): Promise<string> {
  return readNodeText(req);
}

/** readJson for Node's request (pages/api routes, whose own body parser is off). */
export async function readNodeJson<T extends z.ZodType>(req: IncomingMessage, schema: T): Promise<z.infer<T>> {
  return parseJson(await readNodeText(req), schema);
}

/** Checks query parameters against `schema`. */
export function readQuery<T extends z.ZodType>(request: Request, schema: T): z.infer<T> {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}
