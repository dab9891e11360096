// Query parameters of the public API (docs/ARCHITECTURE.md §8) as valibot schemas: the handlers
// parse with them and /openapi.json documents them from the same definitions (route-docs.ts), so
// the documented range of `top` is the range a request is checked against.
//
// A parameter that is absent or empty takes its fallback. A malformed one is a 400 with a stable
// code (`invalid_parameter`, or the parameter's own code such as `unknown_directory`) and
// `details.parameter`. Integers arrive as text: digits only (at most 9), then the number schema.
import * as v from "valibot";
import { ApiError } from "../http/errors.ts";
import type { ErrorCode } from "../http/error-codes.ts";
import { slugProblem } from "../config/slug.ts";
import { WINDOWS, type WindowName } from "../../objects/leaderboard/windows.ts";

export interface QueryParam<T, F extends T | null> {
  /** Validates the (prepared) value; its messages are the error messages. */
  readonly schema: v.GenericSchema<T>;
  /** The value when the parameter is absent or empty. */
  readonly fallback: F;
  readonly description: string;
  /** Integer parameters: the text is read as digits before the schema sees a number. */
  readonly integer?: boolean;
  /** Applied to the raw text first (trim, lowercase). */
  readonly prepare?: (raw: string) => string;
  /** Error code when invalid (default `invalid_parameter`, whose message is prefixed by the name). */
  readonly code?: ErrorCode;
}

// biome-ignore lint/suspicious/noExplicitAny: a table of parameters of different value types
export type QuerySpec = Readonly<Record<string, QueryParam<any, any>>>;
export type QueryValues<S extends QuerySpec> = {
  [K in keyof S]: S[K] extends QueryParam<infer T, infer F> ? T | F : never;
};

export function integerParam(min: number, max: number, fallback: number, description: string) {
  const message = `must be an integer from ${min} to ${max}`;
  const schema = v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
  return { schema, fallback, description, integer: true } satisfies QueryParam<number, number>;
}

export const MAX_Q_LENGTH = 100;

export const WINDOW_PARAM = {
  schema: v.picklist(WINDOWS, `must be one of ${WINDOWS.join(", ")}`),
  fallback: "week" as WindowName,
  description: "today = the UTC day so far; week = the last 168 hours; overall = everything.",
} satisfies QueryParam<WindowName, WindowName>;

export const TEXT_PARAM = {
  schema: v.pipe(
    v.string(),
    v.maxLength(MAX_Q_LENGTH, `at most ${MAX_Q_LENGTH} characters`),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    v.regex(/^[^\u0000-\u001f]*$/, "control characters are not allowed"),
  ),
  fallback: null,
  prepare: (raw: string) => raw.trim(),
  description: "Case-insensitive text in slug, directory or description.",
} satisfies QueryParam<string, null>;

/** A directory name: malformed → unknown_directory; well-formed but absent is the handler's check. */
export const DIRECTORY_PARAM = {
  schema: v.pipe(
    v.string(),
    v.regex(/^[a-z0-9][a-z0-9-]{0,39}$/, (issue) => `no directory '${String(issue.input).slice(0, 60)}'`),
  ),
  fallback: null,
  prepare: (raw: string) => raw.toLowerCase(),
  code: "unknown_directory" as const,
  description: "Only this directory (see /v1/directories).",
} satisfies QueryParam<string, null>;

export const TYPE_PARAM = {
  schema: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{0,19}$/, "a lowercase protocol name such as 'http'")),
  fallback: null,
  description: "Protocol type; only `http` matches.",
} satisfies QueryParam<string, null>;

export const TOP_MAX = 100;
export const DISCOVERY_MAX_LIMIT = 100;

export const LEADERBOARD_QUERY = {
  window: WINDOW_PARAM,
  top: integerParam(1, TOP_MAX, 20, "How many ranked (and emerging) entries."),
  directory: DIRECTORY_PARAM,
  q: TEXT_PARAM,
} as const satisfies QuerySpec;

export const DIRECTORIES_QUERY = { window: WINDOW_PARAM } as const satisfies QuerySpec;

export const DISCOVERY_QUERY = {
  type: TYPE_PARAM,
  limit: integerParam(1, DISCOVERY_MAX_LIMIT, 20, "Page size."),
  offset: integerParam(0, 1_000_000, 0, "Items to skip."),
} as const satisfies QuerySpec;

export const EVENTS_QUERY = {
  api: {
    schema: v.pipe(
      v.string(),
      v.check((slug) => slugProblem(slug) === null, "not a valid tenant slug"),
    ),
    fallback: null,
    description: "Only this API's events.",
  } satisfies QueryParam<string, null>,
  limit: integerParam(1, 1000, 100, "How many."),
} as const satisfies QuerySpec;

export const HELD_PAYMENTS_QUERY = {
  limit: integerParam(1, 500, 100, "How many."),
} as const satisfies QuerySpec;

/** Parses `params` by `spec`; the first invalid parameter (in spec order) is the 400. */
export function parseQuery<S extends QuerySpec>(params: URLSearchParams, spec: S): QueryValues<S> {
  const out: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(spec)) {
    const raw = params.get(name);
    const text = raw === null ? null : param.prepare ? param.prepare(raw) : raw;
    if (text === null || text === "") {
      out[name] = param.fallback;
      continue;
    }
    const input = param.integer ? (/^\d{1,9}$/.test(text) ? Number(text) : Number.NaN) : text;
    const result = v.safeParse(param.schema, input);
    if (!result.success) {
      const message = result.issues[0].message;
      const code: ErrorCode = param.code ?? "invalid_parameter";
      const full = code === "invalid_parameter" ? `${name}: ${message}` : message;
      throw new ApiError(400, code, full, { parameter: name });
    }
    out[name] = result.output;
  }
  return out as QueryValues<S>;
}
