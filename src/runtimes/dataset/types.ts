// The normalized dataset: the one typed, compact shape that parse.ts produces from an upload,
// that is stored in R2, and that the tenant engine (query.ts) loads and serves. Types only, so
// the engine bundle imports nothing of the parser.
export type FieldType = "integer" | "number" | "boolean" | "string";
export type Cell = string | number | boolean | null;

export interface FieldSchema {
  name: string;
  type: FieldType;
  nullable: boolean;
}

export interface DatasetSchema {
  fields: FieldSchema[];
  /** Field used by GET /v1/records/:id; null means the 1-based row number is the id. */
  idField: string | null;
  rows: number;
}

export interface NormalizedDataset {
  schema: DatasetSchema;
  /** One array per record, cells in `schema.fields` order. */
  rows: Cell[][];
}

/** What a format parser (csv.ts, json-records.ts) hands to parse.ts: named, typed columns. */
export interface Columns {
  names: string[];
  rows: Cell[][];
  types: FieldType[];
  nullable: boolean[];
}
