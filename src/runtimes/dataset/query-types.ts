// The query engine's vocabulary: its error codes and limits, the typed query that
// query-params.ts parses from URL parameters and query-run.ts runs, and the page it returns.
import { ApiError } from "../../http/errors.ts";
import type { Cell } from "./types.ts";

export type QueryErrorCode = "invalid_parameter" | "unknown_field" | "invalid_filter" | "record_not_found";

export class QueryError extends ApiError {
  declare readonly code: QueryErrorCode;
  constructor(code: QueryErrorCode, message: string, details?: Record<string, unknown>) {
    super(code === "record_not_found" ? 404 : 400, code, message, details);
    this.name = "QueryError";
  }
}

export const QUERY_LIMITS = {
  defaultLimit: 100,
  maxLimit: 1000,
  maxOffset: 100_000_000,
  maxQLength: 256,
  maxFilters: 64,
  maxSortKeys: 8,
} as const;

export const RESERVED_PARAMS = ["q", "sort", "fields", "limit", "offset", "cursor"] as const;
export type ReservedParam = (typeof RESERVED_PARAMS)[number];
export const RESERVED = new Set<string>(RESERVED_PARAMS);

export type RecordItem = Record<string, Cell>;

export interface Filter {
  field: number;
  name: string;
  /** The row matches if its cell equals any of these (SameValueZero). */
  values: Cell[];
}

export interface SortKey {
  field: number;
  name: string;
  desc: boolean;
}

export interface RecordsQuery {
  /** Lowercased search text, or null. */
  q: string | null;
  filters: Filter[];
  sort: SortKey[];
  /** Projection as field indexes in the requested order, or null for every field. */
  fields: number[] | null;
  limit: number;
  offset: number;
}

export interface RecordsPage {
  items: RecordItem[];
  total: number;
  limit: number;
  offset: number;
  nextOffset: number | null;
  nextCursor: string | null;
}

/** Caller text quoted back in an error, bounded. */
export function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
