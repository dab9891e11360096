// parseDataset: every error code, id field rules, and inputs at the size limits.

import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/http/errors.ts";
import { DATASET_LIMITS, parseDataset } from "../../src/runtimes/dataset/parse.ts";
import { fail, types } from "../support/dataset-parse.ts";

describe("parseDataset errors", () => {
  it("dataset_empty", () => {
    for (const [input, format] of [
      ["", "csv"],
      ["a,b\n", "csv"],
      ["a,b\n\n,\n", "csv"],
      ["[]", "json"],
      ['{"items":[]}', "json"],
      ["  ", "json"],
      ["[{}, {}]", "json"],
    ] as const) {
      const err = fail(() => parseDataset(input, format));
      expect(err.code, `${format}: ${JSON.stringify(input)}`).toBe("dataset_empty");
      expect(err.status).toBe(400);
    }
  });

  it("dataset_malformed: field count mismatch reports the line, counting skipped and multi-line rows", () => {
    const err = fail(() => parseDataset("a,b\n1,2\n\n3\n", "csv"));
    expect(err.code).toBe("dataset_malformed");
    expect(err.details).toMatchObject({ line: 4, row: 2, reason: "TooFewFields", expected: 2, found: 1 });

    const err2 = fail(() => parseDataset('a,b\n"x\ny",1\n2,3,4\n', "csv"));
    expect(err2.details).toMatchObject({ line: 4, row: 2, reason: "TooManyFields" });
  });

  it("dataset_malformed: bad quotes", () => {
    const unterminated = fail(() => parseDataset('a,b\n1,2\n3,"abc\n4,5\n', "csv"));
    expect(unterminated.code).toBe("dataset_malformed");
    expect(unterminated.details).toMatchObject({ line: 3, reason: "MissingQuotes" });
    const trailing = fail(() => parseDataset('a,b\n1,"2"x\n', "csv"));
    expect(trailing.code).toBe("dataset_malformed");
    expect(trailing.details).toMatchObject({ line: 2, reason: "InvalidQuotes" });
  });

  it("dataset_malformed: invalid JSON, wrong top level, non-object rows", () => {
    const bad = fail(() => parseDataset('[{"a":1},', "json"));
    expect(bad.code).toBe("dataset_malformed");
    expect(bad.details).toMatchObject({ reason: "invalid_json" });
    for (const doc of ["42", '"x"', "null", '{"rows":[]}', '{"items":{}}']) {
      expect(fail(() => parseDataset(doc, "json")).details).toMatchObject({ reason: "not_an_array" });
    }
    for (const [doc, row] of [
      ['[{"a":1}, 2]', 2],
      ['[{"a":1}, {"a":2}, [1]]', 3],
      ["[null]", 1],
    ] as const) {
      const err = fail(() => parseDataset(doc, "json"));
      expect(err.code).toBe("dataset_malformed");
      expect(err.details).toMatchObject({ reason: "not_an_object", row });
    }
  });

  it("dataset_header_missing: duplicate, empty, data-like or overlong names", () => {
    expect(fail(() => parseDataset("a,b,a\n1,2,3\n", "csv")).details).toMatchObject({
      reason: "duplicate_name",
      name: "a",
      columns: [1, 3],
    });
    expect(fail(() => parseDataset("a, ,c\n1,2,3\n", "csv")).details).toMatchObject({
      reason: "empty_name",
      column: 2,
    });
    expect(fail(() => parseDataset("1,2.5,3\n4,5,6\n", "csv")).details).toMatchObject({
      reason: "header_looks_like_data",
    });
    expect(fail(() => parseDataset(`${"x".repeat(257)}\n1\n`, "csv")).details).toMatchObject({
      reason: "name_too_long",
    });
    expect(fail(() => parseDataset('[{"": 1}]', "json")).code).toBe("dataset_header_missing");
    for (const input of ["a,b,a\n1,2,3\n", "a,,c\n1,2,3\n", "1,2\n3,4\n"])
      expect(fail(() => parseDataset(input, "csv")).code).toBe("dataset_header_missing");
    // Numeric names are fine next to real ones (a pivot table of years).
    expect(types(parseDataset("country,2019,2020\nNO,1,2\n", "csv"))).toEqual({
      country: "string",
      "2019": "integer",
      "2020": "integer",
    });
  });

  it("dataset_too_many_fields above 500 columns or keys", () => {
    const header = Array.from({ length: 501 }, (_, i) => `c${i}`);
    const csvErr = fail(() => parseDataset(`${header.join(",")}\n${header.map(() => "1").join(",")}\n`, "csv"));
    expect(csvErr.code).toBe("dataset_too_many_fields");
    expect(csvErr.details).toMatchObject({ fields: 501, maxFields: 500 });
    const obj = Object.fromEntries(header.map((h) => [h, 1]));
    expect(fail(() => parseDataset(JSON.stringify([obj]), "json")).code).toBe("dataset_too_many_fields");
    // Exactly 500 is fine.
    const ok = parseDataset(
      `${header.slice(0, 500).join(",")}\n${header
        .slice(0, 500)
        .map(() => "1")
        .join(",")}\n`,
      "csv",
    );
    expect(ok.schema.fields).toHaveLength(DATASET_LIMITS.maxFields);
  });

  it("dataset_too_large above the row limit (413)", () => {
    const err = fail(() => parseDataset(`[${new Array(DATASET_LIMITS.maxRows + 1).fill("0").join(",")}]`, "json"));
    expect(err.code).toBe("dataset_too_large");
    expect(err.status).toBe(413);
    const csv = fail(() => parseDataset(`n\n${"1\n".repeat(DATASET_LIMITS.maxRows + 1)}`, "csv"));
    expect(csv.code).toBe("dataset_too_large");
  });

  it("is an ApiError with the envelope fields", () => {
    const err = fail(() => parseDataset("", "csv"));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "dataset_empty", status: 400, name: "DatasetError" });
    expect(typeof err.message).toBe("string");
  });
});

describe("parseDataset idField", () => {
  const csv = "sku,id,name\nA1,1,x\nB2,2,y\nC3,2,z\n";

  it("uses opts.idField when it exists and is unique", () => {
    expect(parseDataset(csv, "csv", { idField: "sku" }).schema.idField).toBe("sku");
  });

  it("rejects an unknown, duplicated or null opts.idField", () => {
    expect(fail(() => parseDataset(csv, "csv", { idField: "nope" })).details).toMatchObject({
      reason: "unknown_field",
    });
    const dup = fail(() => parseDataset(csv, "csv", { idField: "id" }));
    expect(dup.code).toBe("dataset_bad_id_field");
    expect(dup.details).toMatchObject({ reason: "duplicate", row: 3 });
    const nul = fail(() => parseDataset("k,v\na,1\n,2\n", "csv", { idField: "k" }));
    expect(nul.code).toBe("dataset_bad_id_field");
    expect(nul.details).toMatchObject({ reason: "null", row: 2 });
  });

  it("defaults to a unique `id`, else null (row numbers)", () => {
    expect(parseDataset("id,v\n10,a\n20,b\n", "csv").schema.idField).toBe("id");
    expect(parseDataset(csv, "csv").schema.idField).toBeNull(); // id repeats
    expect(parseDataset("id,v\n1,a\n,b\n", "csv").schema.idField).toBeNull(); // id has a null
    expect(parseDataset("ID,v\n1,a\n", "csv").schema.idField).toBeNull(); // exact name only
    expect(parseDataset("v\na\n", "csv").schema.idField).toBeNull();
  });
});

describe("parseDataset at size", () => {
  it("parses a 10 MB CSV into a stored form of similar size", () => {
    const lines = ["id,name,city,zip,price,qty,active,note"];
    let bytes = lines[0]!.length + 1;
    const cities = ["Oslo", "Rome", "Lima", "Kyiv", "Pune", "Cork"];
    for (let i = 1; bytes < 10 * 1024 * 1024; i++) {
      const line = `${i},Item ${i},${cities[i % 6]},0${((i * 7919) % 90000) + 1000},${(i % 1000) / 4},${i % 50},${i % 3 === 0},"note, ${i}"`;
      lines.push(line);
      bytes += line.length + 1;
    }
    const csv = lines.join("\n");
    const started = performance.now();
    const ds = parseDataset(csv, "csv");
    const parseMs = performance.now() - started;
    expect(ds.schema.rows).toBe(lines.length - 1);
    expect(types(ds)).toEqual({
      id: "integer",
      name: "string",
      city: "string",
      zip: "string",
      price: "number",
      qty: "integer",
      active: "boolean",
      note: "string",
    });
    expect(ds.schema.idField).toBe("id");
    expect(ds.rows[41]).toEqual([
      42,
      "Item 42",
      "Oslo",
      `0${((42 * 7919) % 90000) + 1000}`,
      10.5,
      42,
      true,
      "note, 42",
    ]);
    const stored = JSON.stringify(ds);
    const ratio = stored.length / csv.length;
    console.log(
      `10 MB CSV: ${ds.schema.rows} rows parsed in ${parseMs.toFixed(0)} ms; stored JSON ${(stored.length / 1048576).toFixed(1)} MiB (x${ratio.toFixed(2)})`,
    );
    expect(ratio).toBeLessThan(1.5);
  });
});
