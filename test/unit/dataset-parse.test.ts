// parseDataset: CSV and JSON input -> NormalizedDataset, type inference and nullability.

import { describe, expect, it } from "vitest";
import { parseDataset } from "../../src/runtimes/dataset/parse.ts";
import { nullable, types } from "../support/dataset-parse.ts";

describe("parseDataset csv: types", () => {
  it("infers integer, number, boolean and string columns and converts cells", () => {
    const ds = parseDataset(
      "id,name,age,score,active\n1,Ada,36,9.5,true\n2,Bob,41,7,FALSE\n3,Cy,-5,-0.25,True\n",
      "csv",
    );
    expect(types(ds)).toEqual({ id: "integer", name: "string", age: "integer", score: "number", active: "boolean" });
    expect(ds.rows).toEqual([
      [1, "Ada", 36, 9.5, true],
      [2, "Bob", 41, 7, false],
      [3, "Cy", -5, -0.25, true],
    ]);
    expect(ds.schema).toMatchObject({ idField: "id", rows: 3 });
    expect(Object.values(nullable(ds)).every((n) => n === false)).toBe(true);
  });

  it("keeps values that would be mangled as numbers as strings", () => {
    const ds = parseDataset(
      "zip,code,big,plus,hex,mixed\n02134,007,12345678901234567890,+5,0x10,1\n10001,12,1,6,16,x\n",
      "csv",
    );
    expect(types(ds)).toEqual({
      zip: "string",
      code: "string",
      big: "string",
      plus: "string",
      hex: "string",
      mixed: "string",
    });
    expect(ds.rows[0]).toEqual(["02134", "007", "12345678901234567890", "+5", "0x10", "1"]);
    expect(ds.rows[1]).toEqual(["10001", "12", "1", "6", "16", "x"]);
  });

  it("accepts canonical numeric forms", () => {
    const ds = parseDataset("a,b,c,d,e\n0,0.5,1e3,.5,9007199254740991\n-0,10,2.5E-2,-.25,1\n", "csv");
    expect(types(ds)).toEqual({ a: "integer", b: "number", c: "number", d: "number", e: "integer" });
    expect(ds.rows[0]).toEqual([0, 0.5, 1000, 0.5, 9007199254740991]);
    expect(ds.rows[1]).toEqual([-0, 10, 0.025, -0.25, 1]);
    // 1e999 is not a finite JSON number
    expect(types(parseDataset("x\n1e999\n", "csv"))).toEqual({ x: "string" });
  });

  it("classifies single tokens exactly", () => {
    const cases: [string, string][] = [
      ["42", "integer"],
      ["-7", "integer"],
      ["0", "integer"],
      ["9007199254740992", "string"], // 2^53: not a safe integer
      ["3.14", "number"],
      ["-.5", "number"],
      ["6.02e23", "number"],
      ["1E-3", "number"],
      ["true", "boolean"],
      ["False", "boolean"],
      ["-", "string"],
      [".", "string"],
      ["-.", "string"],
      ["1.", "string"],
      ["1e", "string"],
      ["1e+", "string"],
      ["--1", "string"],
      ["1.2.3", "string"],
      ["00", "string"],
      ["-01", "string"],
      ["Infinity", "string"],
      ["NaN", "string"],
      ["١٢", "string"],
      ["truthy", "string"],
      ["t", "string"],
      ["yes", "string"],
    ];
    for (const [token, type] of cases) expect(types(parseDataset(`col\n${token}\n`, "csv")).col, token).toBe(type);
    // Mixed kinds widen: integer + number -> number; number + boolean -> string.
    expect(types(parseDataset("a,b\n1,1\n2.5,true\n", "csv"))).toEqual({ a: "number", b: "string" });
  });

  it("turns empty and whitespace-only cells into null and marks the column nullable", () => {
    const ds = parseDataset("a,b,c,d\n1,,x,\n, ,y,\n3,2.5,,\n", "csv");
    expect(types(ds)).toEqual({ a: "integer", b: "number", c: "string", d: "string" });
    expect(nullable(ds)).toEqual({ a: true, b: true, c: true, d: true });
    expect(ds.rows).toEqual([
      [1, null, "x", null],
      [null, null, "y", null],
      [3, 2.5, null, null],
    ]);
  });

  it("trims numbers and header names but keeps string cells as written", () => {
    const ds = parseDataset(" a , b \n 42 , padded \n", "csv");
    expect(ds.schema.fields.map((f) => f.name)).toEqual(["a", "b"]);
    expect(ds.rows[0]).toEqual([42, " padded "]);
  });

  it("handles quoted commas, quotes and newlines", () => {
    const ds = parseDataset('name,note\n"Smith, Jane","said ""hi""\nthen left"\nBob,plain\n', "csv");
    expect(ds.rows).toEqual([
      ["Smith, Jane", 'said "hi"\nthen left'],
      ["Bob", "plain"],
    ]);
  });

  it("strips a BOM and handles CRLF line endings", () => {
    const ds = parseDataset("\uFEFFid,name\r\n1,a\r\n2,b\r\n", "csv");
    expect(ds.schema.fields.map((f) => f.name)).toEqual(["id", "name"]);
    expect(ds.rows).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
  });

  it("detects tab and semicolon delimiters from the header only", () => {
    expect(parseDataset("a\tb\n1\tx,y\n", "csv").rows).toEqual([[1, "x,y"]]);
    expect(parseDataset("a;b\n1;2\n", "csv").rows).toEqual([[1, 2]]);
    // A single text column full of ';' stays one column.
    const one = parseDataset("sentence\nfoo; bar\nbaz; qux\n", "csv");
    expect(one.schema.fields).toHaveLength(1);
    expect(one.rows).toEqual([["foo; bar"], ["baz; qux"]]);
  });

  it("skips blank and delimiter-only lines", () => {
    const ds = parseDataset("a,b\n1,2\n\n,\n , \n3,4\n,,\n", "csv");
    expect(ds.rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it("keeps odd field names as data (including __proto__)", () => {
    const ds = parseDataset("__proto__,constructor,a b\n1,2,3\n", "csv");
    expect(ds.schema.fields.map((f) => f.name)).toEqual(["__proto__", "constructor", "a b"]);
    expect(ds.rows).toEqual([[1, 2, 3]]);
  });
});

describe("parseDataset json", () => {
  it("accepts a top-level array and unions the keys in first-seen order", () => {
    const ds = parseDataset(
      JSON.stringify([
        { id: 1, name: "a" },
        { id: 2, extra: true },
        { name: "c", id: 3 },
      ]),
      "json",
    );
    expect(ds.schema.fields).toEqual([
      { name: "id", type: "integer", nullable: false },
      { name: "name", type: "string", nullable: true },
      { name: "extra", type: "boolean", nullable: true },
    ]);
    expect(ds.rows).toEqual([
      [1, "a", null],
      [2, null, true],
      [3, "c", null],
    ]);
    expect(ds.schema.idField).toBe("id");
  });

  it("accepts {items: [...]} and keeps JSON types (a JSON string stays a string)", () => {
    const ds = parseDataset(
      JSON.stringify({
        items: [
          { zip: "02134", n: 1, x: 1.5 },
          { zip: "42", n: 2, x: 2 },
        ],
        meta: {},
      }),
      "json",
    );
    expect(types(ds)).toEqual({ zip: "string", n: "integer", x: "number" });
    expect(ds.rows).toEqual([
      ["02134", 1, 1.5],
      ["42", 2, 2],
    ]);
  });

  it("stores nested values as JSON text and mixed columns as strings", () => {
    const ds = parseDataset(
      JSON.stringify([
        { tags: ["a", "b"], m: 1, o: { k: 1 }, e: "" },
        { tags: null, m: "two", o: null, e: null },
      ]),
      "json",
    );
    expect(types(ds)).toEqual({ tags: "string", m: "string", o: "string", e: "string" });
    expect(ds.rows).toEqual([
      ['["a","b"]', "1", '{"k":1}', ""],
      [null, "two", null, null],
    ]);
    expect(nullable(ds)).toEqual({ tags: true, m: false, o: true, e: true });
  });

  it("strips a BOM before JSON.parse", () => {
    expect(parseDataset('\uFEFF[{"a":1}]', "json").rows).toEqual([[1]]);
  });
});
