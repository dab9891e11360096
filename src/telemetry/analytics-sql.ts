// The production read path of raw telemetry (docs/ARCHITECTURE.md §14): the newest data points of
// the TELEMETRY dataset through the Workers Analytics Engine SQL API, over the Cloudflare REST API
// like src/control/cloudflare-api.ts:
//   POST {apiBase}/accounts/{account}/analytics_engine/sql
//   Authorization: Bearer <CF_API_TOKEN>   (needs "Account Analytics: Read")
//   body: the SQL text, ending in FORMAT JSON → {meta, data: [{index1, blob1…, double1…}], rows}
// The SQL API takes no bind parameters, so the two inputs are validated here (valibot) before they
// become text: the slug must pass the slug rule (a-z, 0-9, '-'), the limit must be an integer in
// range. Nothing else from the request reaches the SQL. The fetch is a parameter so the exact request
// can be checked in a test.
import * as v from "valibot";
import { slugProblem } from "../config/slug.ts";
import { ApiError } from "../http/errors.ts";
import { BLOB_COUNT, DOUBLE_COUNT, type PointRow } from "./data-point.ts";

/** The dataset the production TELEMETRY binding writes (wrangler.jsonc `analytics_engine_datasets`). */
export const TELEMETRY_DATASET = "claw_calls";
export const MAX_EVENTS_LIMIT = 1000;
export const SQL_TIMEOUT_MS = 10_000;

export interface AnalyticsTarget {
  apiBase: string;
  accountId: string;
  token: string;
}

const SqlInput = v.object({
  api: v.nullable(
    v.pipe(
      v.string(),
      v.check((s) => slugProblem(s) === null, "not a valid tenant slug"),
      v.regex(/^[a-z0-9-]+$/, "a-z, 0-9 and '-' only"),
    ),
  ),
  limit: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_EVENTS_LIMIT)),
});
export type SqlInput = v.InferOutput<typeof SqlInput>;

const COLUMNS = [
  "index1",
  ...Array.from({ length: BLOB_COUNT }, (_, i) => `blob${i + 1}`),
  ...Array.from({ length: DOUBLE_COUNT }, (_, i) => `double${i + 1}`),
  "_sample_interval",
].join(", ");

/** The SQL text of one read; throws 400 invalid_parameter for input that is not safe to inline. */
export function eventsSql(input: SqlInput): string {
  const parsed = v.safeParse(SqlInput, input);
  if (!parsed.success) {
    throw new ApiError(400, "invalid_parameter", `invalid events query: ${parsed.issues[0]?.message ?? "invalid"}`);
  }
  const { api, limit } = parsed.output;
  const where = api === null ? "" : ` WHERE index1 = '${api}'`;
  return `SELECT ${COLUMNS} FROM ${TELEMETRY_DATASET}${where} ORDER BY timestamp DESC LIMIT ${limit} FORMAT JSON`;
}

export function sqlUrl(t: Omit<AnalyticsTarget, "token">): string {
  return `${t.apiBase.replace(/\/+$/, "")}/accounts/${encodeURIComponent(t.accountId)}/analytics_engine/sql`;
}

const SqlAnswer = v.object({ data: v.array(v.record(v.string(), v.unknown())) });

/** The rows of one read, newest first. Refusals and outages are 502 telemetry_failed. */
export async function queryEvents(
  target: AnalyticsTarget,
  input: SqlInput,
  fetcher: typeof fetch = fetch,
): Promise<PointRow[]> {
  const sql = eventsSql(input);
  let res: Response;
  try {
    res = await fetcher(sqlUrl(target), {
      method: "POST",
      headers: { authorization: `Bearer ${target.token}`, "content-type": "text/plain" },
      body: sql,
      signal: AbortSignal.timeout(SQL_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(502, "telemetry_failed", "the Analytics Engine SQL API could not be reached; retry");
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below by status
  }
  const parsed = v.safeParse(SqlAnswer, body);
  if (!res.ok || !parsed.success) {
    const detail = text.split(target.token).join("[redacted]").slice(0, 300);
    throw new ApiError(502, "telemetry_failed", `the Analytics Engine SQL API answered HTTP ${res.status}`, {
      status: res.status,
      body: detail,
    });
  }
  return parsed.output.data;
}
