// Dataset query engine (docs/ARCHITECTURE.md §5): turns `GET /v1/records` query parameters into a typed query
// (valibot for the reserved parameters) and runs it against a loaded NormalizedDataset; also the
// `GET /v1/records/:id` lookup. Pure: no I/O. Bundled into the tenant engine (worker.ts), so it
// imports only types from the parser (parse.ts pulls in papaparse). This module is the engine's
// front: query-params.ts parses, query-run.ts runs, loaded-dataset.ts holds data and indexes.
//
// Semantics a caller can rely on:
// - `?field=value` is an equality filter with the value coerced to the field's type ("42" and
//   "42.0" match integer 42; booleans accept true/false/1/0). Repeating a field ORs the values
//   (`?city=Oslo&city=Rome`); different fields AND. An empty value matches null (and "" in
//   string fields). `filter[field]=value` reaches fields named like reserved parameters.
// - `q` is a case-insensitive substring match over the string fields.
// - `sort=a,-b`: stable (ties keep file order), nulls last in both directions, strings compare
//   case-insensitively first, then by code unit so the order is total and deterministic.
// - `limit` 1..1000 (default 100), `offset` >= 0, or `cursor` (opaque, from `nextCursor`).
//
// Speed: everything expensive is computed lazily once per loaded dataset and cached on it
// (per-field equality index, per-field sort rank, per-sort-spec permutation, lowercase search
// text), so the isolate pays it on the first query that needs it and then answers a filtered,
// sorted query on 100k rows in about a millisecond.
import type { LoadedDataset } from "./loaded-dataset.ts";
import { parseRecordsQuery } from "./query-params.ts";
import type { RecordsPage } from "./query-types.ts";
import { runRecordsQuery } from "./query-run.ts";

export { LoadedDataset, loadDataset } from "./loaded-dataset.ts";
export { coerce, encodeCursor, parseRecordsQuery } from "./query-params.ts";
export { getRecord, runRecordsQuery } from "./query-run.ts";
export { QUERY_LIMITS, QueryError, RESERVED_PARAMS } from "./query-types.ts";
export type { Filter, QueryErrorCode, RecordItem, RecordsPage, RecordsQuery, SortKey } from "./query-types.ts";

export function queryRecords(dataset: LoadedDataset, params: URLSearchParams): RecordsPage {
  return runRecordsQuery(dataset, parseRecordsQuery(params, dataset));
}
