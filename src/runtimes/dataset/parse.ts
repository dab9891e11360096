// Dataset ingestion (docs/ARCHITECTURE.md §5): turns a creator's CSV or JSON upload into the one normalized,
// typed, compact shape that is stored in R2 and served by the tenant engine (worker.ts).
// Pure: no I/O. The control plane calls `parseDataset` and maps `DatasetError` to a 4xx. The
// formats are parsed in csv.ts and json-records.ts; this module picks the id field.
//
// Choices worth knowing (a demanding creator will hit them):
// - CSV needs a header row. Delimiter is ',' unless the header has no comma but has a tab or
//   ';' (TSV / European exports); we never let papaparse guess from data rows, because a
//   single text column full of ';' would be split.
// - Cells are typed per column: integer (safe integers without leading zeros), number,
//   boolean (true/false, any case), else string. Empty or whitespace-only cells are null.
//   Values like "02134" or "12345678901234567890" keep the whole column a string so no
//   zip code or long id is silently mangled.
// - Lines that are empty or only delimiters/whitespace are skipped (spreadsheet exports pad
//   the end with ",,,,"); every other row must have exactly as many cells as the header.
// - JSON keeps the creator's types (a JSON string "42" stays a string). Nested objects and
//   arrays are stored as their JSON text in a string column: the schema stays flat and every
//   column stays filterable. Mixed-type columns become string columns.
// - Rows are arrays in field order, so the stored JSON is about the size of the CSV.
import { parseCsv } from "./csv.ts";
import { DatasetError } from "./dataset-error.ts";
import { parseJson } from "./json-records.ts";
import type { Cell, FieldSchema, NormalizedDataset } from "./types.ts";

export type { Cell, DatasetSchema, FieldSchema, FieldType, NormalizedDataset } from "./types.ts";
export { DATASET_LIMITS, DatasetError, type DatasetErrorCode } from "./dataset-error.ts";

export interface ParseOptions {
  /** Field to use as the record id; must exist and hold unique, non-null values. */
  idField?: string;
}

export function parseDataset(input: string, format: "csv" | "json", opts: ParseOptions = {}): NormalizedDataset {
  // Editors on Windows write a BOM; it must not become part of the first field name.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const { names, rows, types, nullable } = format === "csv" ? parseCsv(text) : parseJson(text);
  const fields: FieldSchema[] = names.map((name, i) => ({
    name,
    type: types[i] ?? "string",
    nullable: nullable[i] ?? true,
  }));
  const idField = chooseIdField(fields, rows, opts.idField);
  return { schema: { fields, idField, rows: rows.length }, rows };
}

function chooseIdField(fields: FieldSchema[], rows: Cell[][], requested: string | undefined): string | null {
  if (requested !== undefined) {
    const col = fields.findIndex((f) => f.name === requested);
    if (col === -1) {
      throw new DatasetError("dataset_bad_id_field", `idField "${requested}" is not a field of this dataset.`, {
        idField: requested,
        reason: "unknown_field",
        fields: fields.slice(0, 50).map((f) => f.name),
      });
    }
    const problem = idProblem(rows, col);
    if (problem) {
      throw new DatasetError(
        "dataset_bad_id_field",
        `idField "${requested}" must be non-empty and unique in every row (row ${problem.row} ${problem.reason === "duplicate" ? "repeats a value" : "is empty"}).`,
        {
          idField: requested,
          ...problem,
        },
      );
    }
    return requested;
  }
  const col = fields.findIndex((f) => f.name === "id");
  return col !== -1 && idProblem(rows, col) === null ? "id" : null;
}

function idProblem(rows: Cell[][], col: number): { reason: "null" | "duplicate"; row: number } | null {
  const seen = new Set<Cell>();
  for (let r = 0; r < rows.length; r++) {
    const v = (rows[r] as Cell[])[col] ?? null;
    if (v === null) return { reason: "null", row: r + 1 };
    if (seen.has(v)) return { reason: "duplicate", row: r + 1 };
    seen.add(v);
  }
  return null;
}
