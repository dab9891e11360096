// Dataset ingestion (DESIGN §5): turns a creator's CSV or JSON upload into the one normalized,
// typed, compact shape that is stored in R2 and served by the tenant engine (worker.ts).
// Pure: no I/O. The control plane calls `parseDataset` and maps `DatasetError` to a 4xx.
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
import Papa from "papaparse";
import { ApiError } from "../../http/errors.ts";

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

export type DatasetErrorCode =
  | "dataset_empty"
  | "dataset_malformed"
  | "dataset_header_missing"
  | "dataset_too_many_fields"
  | "dataset_too_large"
  | "dataset_bad_id_field";

export const DATASET_LIMITS = {
  maxFields: 500,
  maxFieldNameLength: 256,
  /**
   * The tenant engine holds the whole dataset in one isolate (128 MB). Measured in V8 (Node 24),
   * JSON.parse of the stored form costs ~19 bytes per cell (3.7M cells: 69 MB) on top of the
   * JSON text while it parses, so 4M cells is the most that loads with headroom. Bytes are
   * limited separately by the control plane (MAX_DATASET_BYTES).
   */
  maxCells: 4_000_000,
  maxRows: 1_000_000,
} as const;

/** A refused upload. Extends the dispatcher's ApiError so the control plane can rethrow it as is. */
export class DatasetError extends ApiError {
  declare readonly code: DatasetErrorCode;
  constructor(code: DatasetErrorCode, message: string, details?: Record<string, unknown>) {
    super(code === "dataset_too_large" ? 413 : 400, code, message, details);
    this.name = "DatasetError";
  }
}

export interface ParseOptions {
  /** Field to use as the record id; must exist and hold unique, non-null values. */
  idField?: string;
}

export function parseDataset(input: string, format: "csv" | "json", opts: ParseOptions = {}): NormalizedDataset {
  // Editors on Windows write a BOM; it must not become part of the first field name.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const { names, rows, types, nullable } = format === "csv" ? parseCsv(text) : parseJson(text);
  const fields: FieldSchema[] = names.map((name, i) => ({ name, type: types[i] ?? "string", nullable: nullable[i] ?? true }));
  const idField = chooseIdField(fields, rows, opts.idField);
  return { schema: { fields, idField, rows: rows.length }, rows };
}

interface Columns {
  names: string[];
  rows: Cell[][];
  types: FieldType[];
  nullable: boolean[];
}

// What a CSV token can be. A column's type is the narrowest kind every non-empty cell allows.
const KIND_INT = 1;
const KIND_NUM = 2;
const KIND_BOOL = 4;
const KIND_STR = 8;
const BOOLEAN_RE = /^(?:true|false)$/i;

/**
 * Classifies a trimmed, non-empty token with a hand scan (the hot loop of a 10 MB upload; about
 * 3x faster than regexes). Integers must be canonical (no '+', no leading zeros: "02134" is a
 * string) and safe: a 20-digit id would lose digits as a double, so it stays a string.
 */
function classify(t: string): number {
  const n = t.length;
  let c = t.charCodeAt(0);
  if (c === 116 || c === 102 || c === 84 || c === 70) return (n === 4 || n === 5) && BOOLEAN_RE.test(t) ? KIND_BOOL : KIND_STR;
  let i = 0;
  if (c === 45) c = t.charCodeAt(++i);
  let intDigits = 0;
  if (c === 48) {
    intDigits = 1;
    c = t.charCodeAt(++i);
    if (c >= 48 && c <= 57) return KIND_STR;
  } else {
    while (c >= 48 && c <= 57) {
      intDigits++;
      c = t.charCodeAt(++i);
    }
  }
  if (i === n) {
    if (intDigits === 0) return KIND_STR;
    return intDigits <= 15 || Number.isSafeInteger(Number(t)) ? KIND_INT : KIND_STR;
  }
  let fracDigits = 0;
  if (c === 46) {
    c = t.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      fracDigits++;
      c = t.charCodeAt(++i);
    }
    if (fracDigits === 0) return KIND_STR;
  }
  if (intDigits === 0 && fracDigits === 0) return KIND_STR;
  let exponent = false;
  if (c === 101 || c === 69) {
    exponent = true;
    c = t.charCodeAt(++i);
    if (c === 43 || c === 45) c = t.charCodeAt(++i);
    let expDigits = 0;
    while (c >= 48 && c <= 57) {
      expDigits++;
      c = t.charCodeAt(++i);
    }
    if (expDigits === 0) return KIND_STR;
  }
  if (i !== n) return KIND_STR;
  // "1e999" parses to Infinity, which JSON cannot carry.
  return !exponent && n < 300 ? KIND_NUM : Number.isFinite(Number(t)) ? KIND_NUM : KIND_STR;
}

function typeOfKinds(seen: number): FieldType {
  if (seen === 0 || (seen & KIND_STR) !== 0) return "string";
  if (seen === KIND_INT) return "integer";
  if ((seen & ~(KIND_INT | KIND_NUM)) === 0) return "number";
  if (seen === KIND_BOOL) return "boolean";
  return "string";
}

function isBlank(s: string): boolean {
  return s === "" || (isSpace(s.charCodeAt(0)) && s.trim() === "");
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0 || c === 0x3000 || c === 0xfeff;
}

function trimmed(s: string): string {
  return isSpace(s.charCodeAt(0)) || isSpace(s.charCodeAt(s.length - 1)) ? s.trim() : s;
}

function looksNumeric(s: string): boolean {
  const kind = s === "" ? KIND_STR : classify(trimmed(s));
  return kind === KIND_INT || kind === KIND_NUM;
}

function checkFieldName(name: string, where: Record<string, unknown>): void {
  if (name === "") {
    throw new DatasetError("dataset_header_missing", "Every column needs a non-empty name.", { reason: "empty_name", ...where });
  }
  if (name.length > DATASET_LIMITS.maxFieldNameLength) {
    throw new DatasetError("dataset_header_missing", `Field names are limited to ${DATASET_LIMITS.maxFieldNameLength} characters.`, {
      reason: "name_too_long",
      ...where,
    });
  }
}

function checkSize(rows: number, fields: number): void {
  if (rows > DATASET_LIMITS.maxRows || rows * fields > DATASET_LIMITS.maxCells) {
    throw new DatasetError("dataset_too_large", `Datasets are limited to ${DATASET_LIMITS.maxRows} rows and ${DATASET_LIMITS.maxCells} cells.`, {
      rows,
      fields,
      maxRows: DATASET_LIMITS.maxRows,
      maxCells: DATASET_LIMITS.maxCells,
    });
  }
}

function chooseDelimiter(text: string): string {
  const nl = text.search(/\r|\n/);
  const header = nl === -1 ? text : text.slice(0, nl);
  if (header.includes(",")) return ",";
  if (header.includes("\t")) return "\t";
  if (header.includes(";")) return ";";
  return ",";
}

function parseCsv(text: string): Columns {
  const delimiter = chooseDelimiter(text);
  let header: string[] | null = null;
  const raw: string[][] = [];
  let prevCursor = 0;
  let failure: DatasetError | null = null;
  let linebreak = "\n";

  // Line numbers are only computed on failure (counting is O(input)). A row starts at the first
  // character after the previous row that is not part of a skipped blank line.
  const lineAt = (offset: number): number => {
    let line = 1;
    for (let i = text.indexOf(linebreak); i !== -1 && i < offset; i = text.indexOf(linebreak, i + linebreak.length)) line++;
    return line;
  };
  const rowStart = (): number => {
    let i = prevCursor;
    while (i < text.length) {
      const c = text[i];
      if (c !== " " && c !== "\t" && c !== "\r" && c !== "\n" && c !== delimiter) break;
      i++;
    }
    return i;
  };

  Papa.parse<string[]>(text, {
    delimiter,
    skipEmptyLines: "greedy",
    step(result, parser) {
      linebreak = result.meta.linebreak || "\n";
      const cells = result.data;
      const firstError = result.errors[0];
      if (firstError) {
        const index = typeof firstError.index === "number" ? firstError.index : rowStart();
        failure = new DatasetError("dataset_malformed", `CSV is malformed at line ${lineAt(index)}: ${firstError.message}.`, {
          line: lineAt(index),
          row: raw.length + 1,
          reason: firstError.code,
        });
        parser.abort();
        return;
      }
      if (header === null) {
        header = cells;
        if (header.length > DATASET_LIMITS.maxFields) {
          failure = new DatasetError("dataset_too_many_fields", `Datasets are limited to ${DATASET_LIMITS.maxFields} fields; this header has ${header.length}.`, {
            fields: header.length,
            maxFields: DATASET_LIMITS.maxFields,
          });
          parser.abort();
        }
      } else if (cells.length !== header.length) {
        const start = rowStart();
        failure = new DatasetError(
          "dataset_malformed",
          `CSV row at line ${lineAt(start)} has ${cells.length} fields; the header has ${header.length}.`,
          { line: lineAt(start), row: raw.length + 1, reason: cells.length > header.length ? "TooManyFields" : "TooFewFields", expected: header.length, found: cells.length },
        );
        parser.abort();
        return;
      } else {
        raw.push(cells);
        if (raw.length > DATASET_LIMITS.maxRows) {
          failure = new DatasetError("dataset_too_large", `Datasets are limited to ${DATASET_LIMITS.maxRows} rows.`, { maxRows: DATASET_LIMITS.maxRows });
          parser.abort();
        }
      }
      prevCursor = result.meta.cursor;
    },
  });
  const failed = failure as DatasetError | null;
  if (failed) throw failed;
  if (header === null) throw new DatasetError("dataset_empty", "The CSV is empty: it needs a header row and at least one data row.");

  const names = (header as string[]).map((h) => h.trim());
  names.forEach((name, column) => checkFieldName(name, { column: column + 1 }));
  const columnOf = new Map<string, number>();
  names.forEach((name, column) => {
    const first = columnOf.get(name);
    if (first !== undefined) {
      throw new DatasetError("dataset_header_missing", `Column name "${name}" appears twice (columns ${first + 1} and ${column + 1}).`, {
        reason: "duplicate_name",
        name,
        columns: [first + 1, column + 1],
      });
    }
    columnOf.set(name, column);
  });
  if (names.every(looksNumeric)) {
    throw new DatasetError("dataset_header_missing", "The first row looks like data (all numeric); the CSV needs a header row with column names.", {
      reason: "header_looks_like_data",
    });
  }
  if (raw.length === 0) throw new DatasetError("dataset_empty", "The CSV has a header but no data rows.");
  checkSize(raw.length, names.length);

  const width = names.length;
  const seen = new Array<number>(width).fill(0);
  const nullable = new Array<boolean>(width).fill(false);
  for (const row of raw) {
    for (let c = 0; c < width; c++) {
      const s = row[c] as string;
      if (isBlank(s)) nullable[c] = true;
      else if (((seen[c] as number) & KIND_STR) === 0) seen[c] = (seen[c] as number) | classify(trimmed(s));
    }
  }
  const types = seen.map(typeOfKinds);
  // Typed rows are built fresh and each raw row is released as we go, so the peak stays near
  // one copy of the data plus the input text.
  const intern = new Map<string, string>();
  const rows: Cell[][] = new Array<Cell[]>(raw.length);
  for (let r = 0; r < raw.length; r++) {
    const src = raw[r] as string[];
    const row = new Array<Cell>(width);
    for (let c = 0; c < width; c++) {
      const s = src[c] as string;
      row[c] = isBlank(s) ? null : convertCsvCell(s, types[c] as FieldType, intern);
    }
    rows[r] = row;
    (raw as unknown[])[r] = undefined;
  }
  return { names, rows, types, nullable };
}

// Short strings repeat (cities, categories, codes): sharing one copy, as JSON.parse does, cut the
// parsed size of a 25 MB sample from 109 MB to ~70 MB. Bounded so unique text costs no more.
const INTERN_MAX_LENGTH = 24;
const INTERN_MAX_ENTRIES = 200_000;

function convertCsvCell(s: string, type: FieldType, intern: Map<string, string>): Cell {
  switch (type) {
    case "integer":
    case "number":
      return Number(trimmed(s));
    case "boolean":
      return trimmed(s).toLowerCase() === "true";
    case "string": {
      if (s.length > INTERN_MAX_LENGTH) return s;
      const shared = intern.get(s);
      if (shared !== undefined) return shared;
      if (intern.size < INTERN_MAX_ENTRIES) intern.set(s, s);
      return s;
    }
  }
}

function parseJson(text: string): Columns {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (text.trim() === "") throw new DatasetError("dataset_empty", "The JSON document is empty.");
    throw new DatasetError("dataset_malformed", "The JSON document is not valid JSON.", { reason: "invalid_json", parser: (err as Error).message });
  }
  let items: unknown;
  if (Array.isArray(doc)) items = doc;
  else if (isPlainObject(doc) && Array.isArray(doc.items)) items = doc.items;
  else {
    throw new DatasetError("dataset_malformed", "JSON datasets must be an array of objects or an object with an `items` array.", { reason: "not_an_array" });
  }
  const list = items as unknown[];
  if (list.length === 0) throw new DatasetError("dataset_empty", "The JSON dataset has no records.");
  if (list.length > DATASET_LIMITS.maxRows) checkSize(list.length, 1);

  const index = new Map<string, number>();
  const names: string[] = [];
  const rows: Cell[][] = [];
  // Per column: bit set of the JSON kinds seen (1 integer, 2 number, 4 boolean, 8 string/other).
  const kinds: number[] = [];
  const nullable: boolean[] = [];
  let cells = 0;
  for (let r = 0; r < list.length; r++) {
    const item = list[r];
    if (!isPlainObject(item)) {
      throw new DatasetError("dataset_malformed", `Record ${r + 1} is not a JSON object.`, { reason: "not_an_object", row: r + 1 });
    }
    const row: Cell[] = new Array<Cell>(names.length).fill(null);
    for (const key of Object.keys(item)) {
      let col = index.get(key);
      if (col === undefined) {
        checkFieldName(key, { row: r + 1 });
        if (names.length >= DATASET_LIMITS.maxFields) {
          throw new DatasetError("dataset_too_many_fields", `Datasets are limited to ${DATASET_LIMITS.maxFields} fields.`, {
            maxFields: DATASET_LIMITS.maxFields,
            row: r + 1,
          });
        }
        col = names.length;
        index.set(key, col);
        names.push(key);
        kinds.push(0);
        // Every earlier record lacks this key.
        nullable.push(r > 0);
      }
      const value = item[key];
      let cell: Cell;
      let kind: number;
      if (value === null || value === undefined) {
        cell = null;
        kind = 0;
        nullable[col] = true;
      } else if (typeof value === "number") {
        cell = value;
        kind = Number.isSafeInteger(value) ? 1 : 2;
      } else if (typeof value === "boolean") {
        cell = value;
        kind = 4;
      } else if (typeof value === "string") {
        cell = value;
        kind = 8;
      } else {
        cell = JSON.stringify(value);
        kind = 8;
      }
      kinds[col] = (kinds[col] as number) | kind;
      row[col] = cell;
    }
    // Keys this record lacks stay null.
    for (let c = 0; c < names.length; c++) if (!((names[c] as string) in item)) nullable[c] = true;
    rows.push(row);
    cells += names.length;
    if (cells > DATASET_LIMITS.maxCells) checkSize(list.length, names.length);
  }
  if (names.length === 0) throw new DatasetError("dataset_empty", "The JSON records have no fields.");
  checkSize(rows.length, names.length);

  const types: FieldType[] = kinds.map((k) => (k === 0 ? "string" : k === 1 ? "integer" : (k & ~3) === 0 ? "number" : k === 4 ? "boolean" : "string"));
  for (const row of rows) {
    // Records seen before a field first appeared are shorter; pad them.
    while (row.length < names.length) row.push(null);
    for (let c = 0; c < names.length; c++) {
      const v = row[c];
      if (types[c] === "string" && v !== null && typeof v !== "string") row[c] = String(v);
    }
  }
  return { names, rows, types, nullable };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
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
      throw new DatasetError("dataset_bad_id_field", `idField "${requested}" must be non-empty and unique in every row (row ${problem.row} ${problem.reason === "duplicate" ? "repeats a value" : "is empty"}).`, {
        idField: requested,
        ...problem,
      });
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
