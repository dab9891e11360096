// JSON uploads → typed columns (parse.ts explains the rules): an array of objects, or an object
// with an `items` array. Creator types are kept; nested values become their JSON text in a string
// column; mixed-type columns become string columns. Every refusal is a DatasetError.
import { checkFieldName, checkSize, DATASET_LIMITS, DatasetError } from "./dataset-error.ts";
import type { Cell, Columns, FieldType } from "./types.ts";

// Per column: bit set of the JSON kinds seen.
const JSON_INT = 1;
const JSON_NUM = 2;
const JSON_BOOL = 4;
const JSON_STR = 8;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function jsonItems(text: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (text.trim() === "") throw new DatasetError("dataset_empty", "The JSON document is empty.");
    throw new DatasetError("dataset_malformed", "The JSON document is not valid JSON.", {
      reason: "invalid_json",
      parser: (err as Error).message,
    });
  }
  let items: unknown;
  if (Array.isArray(doc)) items = doc;
  else if (isPlainObject(doc) && Array.isArray(doc.items)) items = doc.items;
  else {
    throw new DatasetError(
      "dataset_malformed",
      "JSON datasets must be an array of objects or an object with an `items` array.",
      { reason: "not_an_array" },
    );
  }
  const list = items as unknown[];
  if (list.length === 0) throw new DatasetError("dataset_empty", "The JSON dataset has no records.");
  if (list.length > DATASET_LIMITS.maxRows) checkSize(list.length, 1);
  return list;
}

/** A JSON value as a cell, with its kind bit (0 for null). */
function jsonCell(value: unknown): [Cell, number] {
  if (value === null || value === undefined) return [null, 0];
  if (typeof value === "number") return [value, Number.isSafeInteger(value) ? JSON_INT : JSON_NUM];
  if (typeof value === "boolean") return [value, JSON_BOOL];
  if (typeof value === "string") return [value, JSON_STR];
  return [JSON.stringify(value), JSON_STR];
}

/** Columns in first-seen order while the records are read. */
class ColumnSet {
  readonly index = new Map<string, number>();
  readonly names: string[] = [];
  readonly kinds: number[] = [];
  readonly nullable: boolean[] = [];

  columnOf(key: string, row: number): number {
    let col = this.index.get(key);
    if (col !== undefined) return col;
    checkFieldName(key, { row: row + 1 });
    if (this.names.length >= DATASET_LIMITS.maxFields) {
      throw new DatasetError("dataset_too_many_fields", `Datasets are limited to ${DATASET_LIMITS.maxFields} fields.`, {
        maxFields: DATASET_LIMITS.maxFields,
        row: row + 1,
      });
    }
    col = this.names.length;
    this.index.set(key, col);
    this.names.push(key);
    this.kinds.push(0);
    // Every earlier record lacks this key.
    this.nullable.push(row > 0);
    return col;
  }
}

function readRecord(item: unknown, r: number, columns: ColumnSet): Cell[] {
  if (!isPlainObject(item)) {
    throw new DatasetError("dataset_malformed", `Record ${r + 1} is not a JSON object.`, {
      reason: "not_an_object",
      row: r + 1,
    });
  }
  const row: Cell[] = new Array<Cell>(columns.names.length).fill(null);
  for (const key of Object.keys(item)) {
    const col = columns.columnOf(key, r);
    const [cell, kind] = jsonCell(item[key]);
    if (kind === 0) columns.nullable[col] = true;
    columns.kinds[col] = (columns.kinds[col] as number) | kind;
    row[col] = cell;
  }
  // Keys this record lacks stay null (own keys only: "toString" is not in every record).
  for (let c = 0; c < columns.names.length; c++)
    if (!Object.hasOwn(item, columns.names[c] as string)) columns.nullable[c] = true;
  return row;
}

function typeOfJsonKinds(k: number): FieldType {
  if (k === 0) return "string";
  if (k === JSON_INT) return "integer";
  if ((k & ~(JSON_INT | JSON_NUM)) === 0) return "number";
  return k === JSON_BOOL ? "boolean" : "string";
}

export function parseJson(text: string): Columns {
  const list = jsonItems(text);
  const columns = new ColumnSet();
  const rows: Cell[][] = [];
  let cells = 0;
  for (let r = 0; r < list.length; r++) {
    rows.push(readRecord(list[r], r, columns));
    cells += columns.names.length;
    if (cells > DATASET_LIMITS.maxCells) checkSize(list.length, columns.names.length);
  }
  const { names, nullable } = columns;
  if (names.length === 0) throw new DatasetError("dataset_empty", "The JSON records have no fields.");
  checkSize(rows.length, names.length);

  const types = columns.kinds.map(typeOfJsonKinds);
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
