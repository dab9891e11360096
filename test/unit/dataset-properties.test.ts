// Property tests (fast-check) of the dataset parsers of outside input: a creator's CSV/JSON
// upload (parseDataset) and a caller's `GET /v1/records` parameters (parseRecordsQuery/
// queryRecords, getRecord). Property: a valid result, or a 4xx ApiError with a stable code;
// never another exception, never a 5xx.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ApiError } from "../../src/http/errors.ts";
import { DatasetError, parseDataset, type NormalizedDataset } from "../../src/runtimes/dataset/parse.ts";
import { getRecord, loadDataset, QueryError, queryRecords, QUERY_LIMITS } from "../../src/runtimes/dataset/query.ts";

const DATASET_CODES = new Set([
  "dataset_empty",
  "dataset_malformed",
  "dataset_header_missing",
  "dataset_too_many_fields",
  "dataset_too_large",
  "dataset_bad_id_field",
]);
const QUERY_CODES = new Set(["invalid_parameter", "unknown_field", "invalid_filter", "record_not_found"]);

/** Runs `fn`; a thrown error must be a 4xx ApiError of `Class` with one of `codes`. */
function outcome<T>(fn: () => T, Class: abstract new (...args: never[]) => ApiError, codes: Set<string>): T | null {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Class);
    const e = err as ApiError;
    expect(e.status).toBeGreaterThanOrEqual(400);
    expect(e.status).toBeLessThan(500);
    expect(codes.has(e.code), e.code).toBe(true);
    return null;
  }
}

function checkShape(ds: NormalizedDataset): void {
  const width = ds.schema.fields.length;
  expect(width).toBeGreaterThan(0);
  expect(ds.schema.rows).toBe(ds.rows.length);
  ds.schema.fields.forEach((field, c) => {
    for (const row of ds.rows) {
      expect(row).toHaveLength(width);
      const cell = row[c];
      if (cell === null) {
        expect(field.nullable, `${field.name} has a null`).toBe(true);
        continue;
      }
      const expected = field.type === "integer" || field.type === "number" ? "number" : field.type;
      expect(typeof cell, `${field.name}: ${String(cell)}`).toBe(expected);
      if (field.type === "integer") expect(Number.isSafeInteger(cell)).toBe(true);
      if (typeof cell === "number") expect(Number.isFinite(cell)).toBe(true);
    }
  });
  // What is stored must survive the trip through JSON and load back.
  const loaded = loadDataset(JSON.parse(JSON.stringify(ds)));
  expect(loaded.size).toBe(ds.rows.length);
}

// CSV-ish text: cells that look like numbers, booleans, quotes, delimiters and blanks.
const cellText = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "1",
    "-0",
    "02134",
    "1e999",
    "true",
    "FALSE",
    '"',
    '"a,b"',
    "x;y",
    "\t",
    "NaN",
    "9007199254740993",
    ".5",
  ),
  fc.string({ maxLength: 8 }),
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
);
const csvText = fc
  .tuple(
    fc.constantFrom(",", ";", "\t"),
    fc.constantFrom("\n", "\r\n", "\r"),
    fc.array(fc.array(cellText, { minLength: 1, maxLength: 6 }), { minLength: 0, maxLength: 8 }),
  )
  .map(([delimiter, newline, rows]) => rows.map((r) => r.join(delimiter)).join(newline));

// JSON records with odd keys (prototype names, empty, long) and every JSON value kind.
const jsonKey = fc.oneof(
  fc.constantFrom("id", "__proto__", "constructor", "toString", "", "a".repeat(300)),
  fc.string({ maxLength: 6 }),
);
const jsonRecords = fc.array(fc.dictionary(jsonKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }), { maxLength: 8 });

describe("parseDataset properties", () => {
  it("CSV text: a well-formed dataset or a 4xx DatasetError", () => {
    fc.assert(
      fc.property(csvText, fc.option(fc.constantFrom("id", "a", "1", ""), { nil: undefined }), (text, idField) => {
        const ds = outcome(
          () => parseDataset(text, "csv", idField === undefined ? {} : { idField }),
          DatasetError,
          DATASET_CODES,
        );
        if (ds) checkShape(ds);
      }),
      { numRuns: 400 },
    );
  });

  it("arbitrary text as CSV or JSON: never anything but a DatasetError", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: "binary",
          maxLength: 200,
        }),
        fc.constantFrom("csv" as const, "json" as const),
        (text, format) => {
          const ds = outcome(() => parseDataset(text, format), DatasetError, DATASET_CODES);
          if (ds) checkShape(ds);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("JSON records (and any JSON document): a well-formed dataset or a 4xx DatasetError", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonRecords,
          jsonRecords.map((items) => ({ items })),
          fc.jsonValue(),
        ),
        (doc) => {
          const ds = outcome(() => parseDataset(JSON.stringify(doc), "json"), DatasetError, DATASET_CODES);
          if (ds) checkShape(ds);
        },
      ),
      { numRuns: 400 },
    );
  });
});

const people = loadDataset(
  JSON.parse(
    JSON.stringify(
      parseDataset(
        "id,name,score,active,limit,-odd\n1,Ada,9.5,true,1,x\n2,bob,7,false,2,y\n3,Cy,,true,3,\n4,Dee,7,,4,z\n",
        "csv",
      ),
    ),
  ),
);
const paramKey = fc.oneof(
  fc.constantFrom(
    "q",
    "sort",
    "fields",
    "limit",
    "offset",
    "cursor",
    "id",
    "name",
    "score",
    "active",
    "filter[limit]",
    "filter[",
    "filter[]",
    "-odd",
  ),
  fc.string({ maxLength: 6 }),
);
const paramValue = fc.oneof(
  fc.constantFrom(
    "",
    "1",
    "-1",
    "1001",
    "0",
    "name,-score",
    "-id,+name,,",
    "true",
    "x",
    "eyJvIjoxfQ",
    "eyJvIjotMX0",
    "9".repeat(20),
    "1e3",
    " 7 ",
  ),
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
);

describe("dataset query parameter properties", () => {
  it("any parameters: a page within its limit, or a 4xx QueryError", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(paramKey, paramValue), { maxLength: 8 }), (pairs) => {
        const params = new URLSearchParams(pairs);
        const page = outcome(() => queryRecords(people, params), QueryError, QUERY_CODES);
        if (!page) return;
        expect(page.items.length).toBeLessThanOrEqual(Math.min(page.limit, QUERY_LIMITS.maxLimit));
        expect(page.total).toBeLessThanOrEqual(people.size);
        expect(JSON.parse(JSON.stringify(page))).toEqual(page);
      }),
      { numRuns: 1000 },
    );
  });

  it("a raw query string parsed as a URL does the same", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (raw) => {
        const params = new URL(`http://x/v1/records?${raw}`).searchParams;
        outcome(() => queryRecords(people, params), QueryError, QUERY_CODES);
      }),
      { numRuns: 500 },
    );
  });

  it("any record id and projection: the record, or a 4xx QueryError", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: "binary",
          maxLength: 20,
        }),
        fc.option(paramValue, { nil: undefined }),
        (id, fields) => {
          const params = new URLSearchParams(fields === undefined ? [] : [["fields", fields]]);
          outcome(() => getRecord(people, id, params), QueryError, QUERY_CODES);
        },
      ),
      { numRuns: 500 },
    );
  });
});
