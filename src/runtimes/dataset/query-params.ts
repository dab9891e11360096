// `GET /v1/records` parameters → a typed RecordsQuery (valibot for the reserved parameters):
// filters coerced to their field's type, sort keys, projection, limit/offset or cursor. Every
// bad input is a QueryError (4xx) naming the parameter; nothing here throws anything else.
import * as v from "valibot";
import type { LoadedDataset } from "./loaded-dataset.ts";
import {
  QUERY_LIMITS,
  QueryError,
  RESERVED,
  truncate,
  type Filter,
  type RecordsQuery,
  type ReservedParam,
  type SortKey,
} from "./query-types.ts";
import type { Cell, FieldType } from "./types.ts";

const digits = (param: ReservedParam, min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,12}$/, `${param} must be an integer between ${min} and ${max}`),
    v.transform(Number),
    v.minValue(min, `${param} must be an integer between ${min} and ${max}`),
    v.maxValue(max, `${param} must be an integer between ${min} and ${max}`),
  );

const CursorSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-]{1,64}$/, "cursor is not a cursor returned by this API"),
  v.transform(decodeCursor),
  v.number("cursor is not a cursor returned by this API"),
);

const ReservedParamsSchema = v.object({
  q: v.optional(
    v.pipe(v.string(), v.maxLength(QUERY_LIMITS.maxQLength, `q is limited to ${QUERY_LIMITS.maxQLength} characters`)),
  ),
  sort: v.optional(v.pipe(v.string(), v.maxLength(2000, "sort is too long"))),
  fields: v.optional(v.pipe(v.string(), v.maxLength(20_000, "fields is too long"))),
  limit: v.optional(digits("limit", 1, QUERY_LIMITS.maxLimit), String(QUERY_LIMITS.defaultLimit)),
  offset: v.optional(digits("offset", 0, QUERY_LIMITS.maxOffset)),
  cursor: v.optional(CursorSchema),
});

export function encodeCursor(offset: number): string {
  return btoa(JSON.stringify({ o: offset }))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const decoded: unknown = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof decoded === "object" && decoded !== null && "o" in decoded) {
      const o = (decoded as { o: unknown }).o;
      if (typeof o === "number" && Number.isSafeInteger(o) && o >= 0 && o <= QUERY_LIMITS.maxOffset) return o;
    }
  } catch {
    // fall through: not ours
  }
  return undefined;
}

const FILTER_PARAM_RE = /^filter\[(.+)\]$/s;

/** Splits the parameters into the reserved ones (each at most once) and raw filter values per field. */
function collectParams(
  params: URLSearchParams,
  dataset: LoadedDataset,
): { reserved: Partial<Record<ReservedParam, string>>; filterValues: Map<number, string[]> } {
  const reserved: Partial<Record<ReservedParam, string>> = {};
  const filterValues = new Map<number, string[]>();
  for (const [key, raw] of params) {
    if (RESERVED.has(key)) {
      if (reserved[key as ReservedParam] !== undefined) {
        throw new QueryError("invalid_parameter", `${key} may be given only once.`, { param: key, reason: "repeated" });
      }
      reserved[key as ReservedParam] = raw;
      continue;
    }
    const name = FILTER_PARAM_RE.exec(key)?.[1] ?? key;
    const field = dataset.fieldIndex.get(name);
    if (field === undefined) throw unknownField(name, dataset, "filter");
    let list = filterValues.get(field);
    if (!list) {
      if (filterValues.size >= QUERY_LIMITS.maxFilters) {
        throw new QueryError(
          "invalid_parameter",
          `At most ${QUERY_LIMITS.maxFilters} fields can be filtered at once.`,
          { reason: "too_many_filters" },
        );
      }
      filterValues.set(field, (list = []));
    }
    list.push(raw);
  }
  return { reserved, filterValues };
}

/** Raw filter values coerced to their field's type; an empty value matches null (and "" in strings). */
function typedFilters(filterValues: Map<number, string[]>, dataset: LoadedDataset): Filter[] {
  const filters: Filter[] = [];
  for (const [field, raws] of filterValues) {
    const schema = dataset.field(field);
    const values: Cell[] = [];
    for (const raw of raws) {
      if (raw === "") {
        values.push(null);
        if (schema.type === "string") values.push("");
        continue;
      }
      const value = coerce(raw, schema.type);
      if (value === undefined) {
        throw new QueryError(
          "invalid_filter",
          `Filter ${schema.name}=${truncate(raw)} is not a valid ${schema.type}.`,
          {
            field: schema.name,
            value: truncate(raw),
            expected: schema.type,
          },
        );
      }
      values.push(value);
    }
    filters.push({ field, name: schema.name, values });
  }
  return filters;
}

export function parseRecordsQuery(params: URLSearchParams, dataset: LoadedDataset): RecordsQuery {
  const { reserved, filterValues } = collectParams(params, dataset);
  const parsed = v.safeParse(ReservedParamsSchema, reserved);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const param = issue.path?.[0]?.key;
    throw new QueryError("invalid_parameter", issue.message, {
      param: typeof param === "string" ? param : undefined,
      value: issue.input,
    });
  }
  const out = parsed.output;
  if (out.offset !== undefined && out.cursor !== undefined) {
    throw new QueryError("invalid_parameter", "Use either offset or cursor, not both.", {
      param: "cursor",
      reason: "conflict",
    });
  }
  const filters = typedFilters(filterValues, dataset);
  const q = out.q?.trim().toLowerCase() || null;
  return {
    q,
    filters,
    sort: parseSort(out.sort, dataset),
    fields: parseFields(out.fields, dataset),
    limit: out.limit,
    offset: out.offset ?? out.cursor ?? 0,
  };
}

function parseSort(raw: string | undefined, dataset: LoadedDataset): SortKey[] {
  const keys: SortKey[] = [];
  if (raw === undefined) return keys;
  const seen = new Set<number>();
  for (const part of raw.split(",")) {
    // A literal '+' arrives as a space after URL decoding, hence the trim.
    let name = part.trim();
    if (name === "") continue;
    let desc = false;
    if (name.startsWith("-")) {
      desc = true;
      name = name.slice(1);
    } else if (name.startsWith("+")) name = name.slice(1);
    // A field whose name really starts with '-' or '+' is still reachable by its full name.
    let field = dataset.fieldIndex.get(name);
    if (field === undefined && dataset.fieldIndex.has(part.trim())) {
      field = dataset.fieldIndex.get(part.trim());
      desc = false;
    }
    if (field === undefined) throw unknownField(name, dataset, "sort");
    if (seen.has(field)) continue;
    seen.add(field);
    keys.push({ field, name: dataset.field(field).name, desc });
  }
  if (keys.length > QUERY_LIMITS.maxSortKeys) {
    throw new QueryError("invalid_parameter", `sort takes at most ${QUERY_LIMITS.maxSortKeys} fields.`, {
      param: "sort",
      reason: "too_many_keys",
    });
  }
  return keys;
}

export function parseFields(raw: string | undefined, dataset: LoadedDataset): number[] | null {
  if (raw === undefined) return null;
  const out: number[] = [];
  const seen = new Set<number>();
  for (const part of raw.split(",")) {
    const name = part.trim();
    if (name === "") continue;
    const field = dataset.fieldIndex.get(name);
    if (field === undefined) throw unknownField(name, dataset, "fields");
    if (!seen.has(field)) {
      seen.add(field);
      out.push(field);
    }
  }
  return out.length === 0 ? null : out;
}

function unknownField(name: string, dataset: LoadedDataset, where: "filter" | "sort" | "fields"): QueryError {
  const known = dataset.schema.fields.map((f) => f.name);
  return new QueryError("unknown_field", `Unknown field "${truncate(name)}" in ${where}. See GET /v1/schema.`, {
    field: truncate(name),
    param: where,
    fields: known.length <= 50 ? known : [...known.slice(0, 50), "…"],
  });
}

const NUMERIC_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Coerces URL text to a field's type; undefined when it cannot be a value of that type. */
export function coerce(raw: string, type: FieldType): Cell | undefined {
  switch (type) {
    case "string":
      return raw;
    case "boolean": {
      const t = raw.trim().toLowerCase();
      return t === "true" || t === "1" ? true : t === "false" || t === "0" ? false : undefined;
    }
    case "integer":
    case "number": {
      const t = raw.trim();
      if (!NUMERIC_RE.test(t)) return undefined;
      const n = Number(t);
      if (!Number.isFinite(n)) return undefined;
      if (type === "integer" && !Number.isSafeInteger(n)) return undefined;
      return n;
    }
  }
}
