// A dataset's operations, derived from its stored columns (docs/ARCHITECTURE.md §11): the three
// read endpoints of the dataset engine (src/runtimes/dataset/worker.ts) with per-field filters
// typed by column, the reserved parameters of query.ts, the record/page/schema response schemas,
// and a real example (the first record). A dataset deployed before columns were stored gets the
// same operations with an open record schema.
import type { DatasetArtifact } from "../config/tenant-config.ts";
import { encodeCursor, QUERY_LIMITS, RESERVED_PARAMS } from "../runtimes/dataset/query.ts";
import type { Operation, Parameter } from "./description-types.ts";

type Field = NonNullable<DatasetArtifact["fields"]>[number];
type Schema = Record<string, unknown>;

const RESERVED = new Set<string>(RESERVED_PARAMS);

export function recordSchema(fields: readonly Field[] | undefined): Schema {
  if (!fields) return { type: "object", additionalProperties: { type: ["string", "number", "boolean", "null"] } };
  return {
    type: "object",
    properties: Object.fromEntries(fields.map((f) => [f.name, { type: f.nullable ? [f.type, "null"] : f.type }])),
    required: fields.map((f) => f.name),
    additionalProperties: false,
  };
}

function pageSchema(record: Schema): Schema {
  const count = { type: "integer", minimum: 0 };
  return {
    type: "object",
    properties: {
      items: { type: "array", items: record },
      total: count,
      limit: { type: "integer", minimum: 1, maximum: QUERY_LIMITS.maxLimit },
      offset: count,
      nextOffset: { type: ["integer", "null"], minimum: 0 },
      nextCursor: { type: ["string", "null"] },
    },
    required: ["items", "total", "limit", "offset", "nextOffset", "nextCursor"],
    additionalProperties: false,
  };
}

const FIELD_SCHEMA: Schema = {
  type: "object",
  properties: {
    name: { type: "string" },
    type: { type: "string", enum: ["integer", "number", "boolean", "string"] },
    nullable: { type: "boolean" },
  },
  required: ["name", "type", "nullable"],
  additionalProperties: false,
};

const SCHEMA_SCHEMA: Schema = {
  type: "object",
  properties: {
    fields: { type: "array", items: FIELD_SCHEMA },
    idField: { type: ["string", "null"] },
    rows: { type: "integer", minimum: 0 },
  },
  required: ["fields", "idField", "rows"],
  additionalProperties: false,
};

function q(name: string, description: string, schema: Schema, shared?: string): Parameter {
  return { name, in: "query", required: false, description, schema, ...(shared ? { shared } : {}) };
}

/** The reserved parameters, identical for every dataset: shared in documents by reference. */
export const SHARED_DATASET_PARAMETERS: Parameter[] = [
  q(
    "q",
    "Case-insensitive substring search over the string fields.",
    { type: "string", maxLength: QUERY_LIMITS.maxQLength },
    "DatasetQ",
  ),
  q("sort", "Comma-separated field names; '-' prefix sorts descending; nulls last.", { type: "string" }, "DatasetSort"),
  q("fields", "Comma-separated field names to return (projection).", { type: "string" }, "DatasetFields"),
  q(
    "limit",
    `Page size, 1..${QUERY_LIMITS.maxLimit} (default ${QUERY_LIMITS.defaultLimit}).`,
    { type: "integer", minimum: 1, maximum: QUERY_LIMITS.maxLimit },
    "DatasetLimit",
  ),
  q(
    "offset",
    "0-based start (or use cursor).",
    { type: "integer", minimum: 0, maximum: QUERY_LIMITS.maxOffset },
    "DatasetOffset",
  ),
  q("cursor", "nextCursor of a previous page (instead of offset).", { type: "string" }, "DatasetCursor"),
];

function recordsParameters(fields: readonly Field[] | undefined): Parameter[] {
  // Repeat a filter to match any of several values; an empty value matches null (query.ts).
  const filters = (fields ?? []).map((f) =>
    q(RESERVED.has(f.name) ? `filter[${f.name}]` : f.name, `${f.name} equals (${f.type})`, { type: f.type }),
  );
  return [...filters, ...SHARED_DATASET_PARAMETERS];
}

export function datasetOperations(r: DatasetArtifact): Operation[] {
  const record = recordSchema(r.fields);
  const example = r.example;
  const idOf =
    example && r.idField !== null && example[r.idField] !== undefined && example[r.idField] !== null
      ? String(example[r.idField])
      : "1";
  const page = example
    ? {
        items: [example],
        total: r.rows,
        limit: 1,
        offset: 0,
        nextOffset: r.rows > 1 ? 1 : null,
        nextCursor: r.rows > 1 ? encodeCursor(1) : null,
      }
    : undefined;
  const idName = r.idField ?? "row number";
  return [
    {
      method: "GET",
      path: "/v1/records",
      summary: `List records (${r.rows} rows): filter by any field, search, sort, project, page`,
      parameters: recordsParameters(r.fields),
      output: { schema: pageSchema(record), ...(page ? { example: page } : {}) },
      inputExample: { limit: 1 },
      pathExample: {},
      declared: true,
    },
    {
      method: "GET",
      path: "/v1/records/{id}",
      summary: `One record by ${idName}`,
      parameters: [
        {
          name: "id",
          in: "path",
          required: true,
          description: r.idField ? `the record's ${r.idField}` : "1-based row number",
          schema: { type: "string" },
        },
        SHARED_DATASET_PARAMETERS[2]!,
      ],
      output: { schema: record, ...(example ? { example } : {}) },
      inputExample: {},
      pathExample: { id: idOf },
      declared: true,
    },
    {
      method: "GET",
      path: "/v1/schema",
      summary: "The dataset's fields with their types, its id field and its row count",
      parameters: [],
      output: {
        schema: SCHEMA_SCHEMA,
        ...(r.fields ? { example: { fields: r.fields, idField: r.idField, rows: r.rows } } : {}),
      },
      inputExample: {},
      pathExample: {},
      declared: true,
    },
  ];
}
