// Reading and validating request bodies: size-capped, JSON-parsed, valibot-checked, and every
// failure an ApiError with a stable code (never a 5xx from bad input).
import * as v from "valibot";
import { ApiError } from "./errors.ts";

export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** Flattened valibot issues: `[{path: "rateLimit.perCaller.requests", message}]`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): { path: string; message: string }[] {
  return issues.map((issue) => ({
    path: issue.path?.map((p) => String(p.key)).join(".") ?? "",
    message: issue.message,
  }));
}

export function validate<S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) {
    const details = describeIssues(result.issues);
    const first = details[0];
    throw new ApiError(
      400,
      "invalid_request",
      `${what}: ${first?.path ? `${first.path}: ` : ""}${first?.message ?? "invalid"}`,
      details,
    );
  }
  return result.output;
}

/** Rejects declared or actual bodies over `maxBytes` with 413 before buffering more than that. */
export async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError(413, "payload_too_large", `request body is ${declared} bytes; the limit is ${maxBytes}`);
  }
  const buffer = await request.arrayBuffer();
  if (buffer.byteLength > maxBytes) {
    throw new ApiError(
      413,
      "payload_too_large",
      `request body is ${buffer.byteLength} bytes; the limit is ${maxBytes}`,
    );
  }
  return new TextDecoder().decode(buffer);
}

export async function readJson<S extends v.GenericSchema>(
  request: Request,
  schema: S,
  what = "body",
): Promise<v.InferOutput<S>> {
  const text = await readBoundedText(request, MAX_JSON_BODY_BYTES);
  let parsed: unknown;
  try {
    parsed = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", `${what} is not valid JSON`);
  }
  return validate(schema, parsed, what);
}
