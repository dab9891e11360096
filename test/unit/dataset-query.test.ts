// Query engine: parameter parsing (each error code), filters, search, sort, projection, pagination, record lookup.

import { describe, expect, it } from "vitest";
import { parseDataset } from "../../src/runtimes/dataset/parse.ts";
import { getRecord, loadDataset, parseRecordsQuery } from "../../src/runtimes/dataset/query.ts";
import { ids, load, q, queryError } from "../support/dataset-query.ts";

const CSV = [
  "id,name,city,score,active,zip,limit",
  "1,Ada Lovelace,Oslo,9.5,true,02134,1",
  "2,bob,Rome,7,false,10001,2",
  "3,Cy,Oslo,,true,02134,3",
  "4,Dee,,7,false,,4",
  "5,eve,Lima,9.5,true,99999,5",
  "6,Ada King,Rome,3,,10001,6",
].join("\n");
const people = load(parseDataset(CSV, "csv"));

describe("GET /v1/records semantics", () => {
  it("returns every record with defaults and the page envelope", () => {
    const page = q(people, "");
    expect(page).toMatchObject({ total: 6, limit: 100, offset: 0, nextOffset: null, nextCursor: null });
    expect(page.items[0]).toEqual({
      id: 1,
      name: "Ada Lovelace",
      city: "Oslo",
      score: 9.5,
      active: true,
      zip: "02134",
      limit: 1,
    });
    expect(ids(page)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("q is a case-insensitive substring over string fields only", () => {
    expect(ids(q(people, "q=ADA"))).toEqual([1, 6]);
    expect(ids(q(people, "q=oslo"))).toEqual([1, 3]);
    expect(ids(q(people, "q=0213"))).toEqual([1, 3]); // zip is a string field
    expect(q(people, "q=9.5").total).toBe(0); // score is a number, not searched
    expect(q(people, "q=aoslo").total).toBe(0); // never matches across two fields
    expect(q(people, "q=%20%20").total).toBe(6); // blank q is no filter
  });

  it("filters by field with typed coercion", () => {
    expect(ids(q(people, "city=Oslo"))).toEqual([1, 3]);
    expect(ids(q(people, "city=oslo"))).toEqual([]); // equality is exact
    expect(ids(q(people, "score=7"))).toEqual([2, 4]);
    expect(ids(q(people, "score=7.0"))).toEqual([2, 4]);
    expect(ids(q(people, "id=3"))).toEqual([3]);
    expect(ids(q(people, "id=%2B3"))).toEqual([3]);
    expect(ids(q(people, "active=true"))).toEqual([1, 3, 5]);
    expect(ids(q(people, "active=0"))).toEqual([2, 4]);
    expect(ids(q(people, "zip=02134"))).toEqual([1, 3]);
    expect(ids(q(people, "zip=2134"))).toEqual([]); // string field: no numeric coercion
  });

  it("ANDs different fields, ORs repeated values, and matches null with an empty value", () => {
    expect(ids(q(people, "city=Oslo&active=true&score=9.5"))).toEqual([1]);
    expect(ids(q(people, "city=Oslo&city=Lima"))).toEqual([1, 3, 5]);
    expect(ids(q(people, "city=Lima&city=Oslo&sort=-id"))).toEqual([5, 3, 1]);
    expect(ids(q(people, "city="))).toEqual([4]);
    expect(ids(q(people, "score="))).toEqual([3]);
    expect(ids(q(people, "active="))).toEqual([6]);
    expect(ids(q(people, "city=Rome&q=ada"))).toEqual([6]);
  });

  it("filter[field] reaches fields named like reserved parameters", () => {
    expect(ids(q(people, "filter[limit]=4"))).toEqual([4]);
    expect(ids(q(people, "filter[city]=Rome&limit=1"))).toEqual([2]);
    // plain `limit` is the page size, not a filter
    expect(q(people, "limit=4").items).toHaveLength(4);
  });

  it("sorts ascending, descending, multi-key, stable, nulls last", () => {
    expect(ids(q(people, "sort=score"))).toEqual([6, 2, 4, 1, 5, 3]);
    expect(ids(q(people, "sort=-score"))).toEqual([1, 5, 2, 4, 6, 3]); // ties keep file order; null last
    expect(ids(q(people, "sort=-score,-id"))).toEqual([5, 1, 4, 2, 6, 3]);
    expect(ids(q(people, "sort=city,-id"))).toEqual([5, 3, 1, 6, 2, 4]);
    expect(ids(q(people, "sort=-city"))).toEqual([2, 6, 1, 3, 5, 4]);
    expect(ids(q(people, "sort=%2Bname"))).toEqual([6, 1, 2, 3, 4, 5]); // case-insensitive: "Ada King" < "Ada Lovelace" < "bob"
    expect(ids(q(people, "sort=+name"))).toEqual([6, 1, 2, 3, 4, 5]); // '+' decodes to a space
    expect(ids(q(people, "sort=active,id"))).toEqual([2, 4, 1, 3, 5, 6]);
    expect(ids(q(people, "sort=name,,"))).toEqual([6, 1, 2, 3, 4, 5]);
  });

  it("projects fields in the requested order", () => {
    const page = q(people, "fields=name,id&limit=2");
    expect(page.items).toEqual([
      { name: "Ada Lovelace", id: 1 },
      { name: "bob", id: 2 },
    ]);
    expect(Object.keys(page.items[0]!)).toEqual(["name", "id"]);
    expect(q(people, "fields=id,id,%20city%20").items[0]).toEqual({ id: 1, city: "Oslo" });
  });

  it("paginates with offset, nextOffset and nextCursor", () => {
    const first = q(people, "limit=4&sort=-id");
    expect(ids(first)).toEqual([6, 5, 4, 3]);
    expect(first).toMatchObject({ total: 6, limit: 4, offset: 0, nextOffset: 4 });
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = q(people, `limit=4&sort=-id&cursor=${first.nextCursor}`);
    expect(ids(second)).toEqual([2, 1]);
    expect(second).toMatchObject({ offset: 4, nextOffset: null, nextCursor: null });
    expect(ids(q(people, "limit=4&offset=4&sort=-id"))).toEqual([2, 1]);
    expect(q(people, "offset=6")).toMatchObject({ items: [], total: 6, nextOffset: null });
    expect(q(people, "offset=600")).toMatchObject({ items: [], total: 6, nextOffset: null });
    expect(q(people, "limit=3&offset=3")).toMatchObject({ nextOffset: null });
    expect(q(people, "limit=3&offset=2")).toMatchObject({ nextOffset: 5 });
  });

  it("keeps a field named __proto__ as data", () => {
    const ds = load(parseDataset("__proto__,a\nx,1\n", "csv"));
    const item = q(ds, "").items[0]!;
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(item))).toEqual(JSON.parse('{"__proto__":"x","a":1}'));
    expect(q(ds, "__proto__=x").total).toBe(1);
    expect(queryError(() => q(people, "__proto__=x")).code).toBe("unknown_field");
  });
});

describe("query errors", () => {
  it("invalid_parameter for bad limit / offset / cursor / repeats", () => {
    for (const bad of [
      "limit=-1",
      "limit=0",
      "limit=1001",
      "limit=abc",
      "limit=1.5",
      "limit=",
      "limit=1e3",
      "offset=-1",
      "offset=abc",
      "offset=1.5",
      "cursor=!!",
      "cursor=abc",
      "limit=1&limit=2",
      "offset=1&cursor=eyJvIjoxfQ",
      `q=${"x".repeat(257)}`,
    ]) {
      const err = queryError(() => q(people, bad));
      expect(err.code, bad).toBe("invalid_parameter");
      expect(err.status).toBe(400);
    }
    expect(queryError(() => q(people, "limit=0")).details).toMatchObject({ param: "limit" });
    expect(q(people, "limit=1000").limit).toBe(1000);
    expect(q(people, "limit=1").items).toHaveLength(1);
  });

  it("unknown_field for filters, filter[], sort and fields", () => {
    for (const bad of ["nope=1", "filter[nope]=1", "sort=nope", "sort=-nope", "fields=id,nope", "City=Oslo"]) {
      const err = queryError(() => q(people, bad));
      expect(err.code, bad).toBe("unknown_field");
      expect(err.status).toBe(400);
    }
    expect(queryError(() => q(people, "sort=-nope")).details).toMatchObject({ field: "nope", param: "sort" });
  });

  it("invalid_filter when the value cannot have the field's type", () => {
    for (const bad of [
      "id=abc",
      "id=1.5",
      "id=0x10",
      "score=abc",
      "score=1e999",
      "active=yes",
      "id=99999999999999999999",
    ]) {
      const err = queryError(() => q(people, bad));
      expect(err.code, bad).toBe("invalid_filter");
      expect(err.status).toBe(400);
    }
    expect(queryError(() => q(people, "id=abc")).details).toMatchObject({
      field: "id",
      value: "abc",
      expected: "integer",
    });
  });

  it("parses into a typed query", () => {
    const query = parseRecordsQuery(
      new URLSearchParams("q=Ada&city=Oslo&sort=-score,id&fields=id&limit=5&offset=2"),
      people,
    );
    expect(query).toEqual({
      q: "ada",
      filters: [{ field: 2, name: "city", values: ["Oslo"] }],
      sort: [
        { field: 3, name: "score", desc: true },
        { field: 0, name: "id", desc: false },
      ],
      fields: [0],
      limit: 5,
      offset: 2,
    });
  });
});

describe("GET /v1/records/:id", () => {
  it("looks up by a typed id field", () => {
    expect(getRecord(people, "3")).toMatchObject({ id: 3, name: "Cy" });
    expect(getRecord(people, "3.0")).toMatchObject({ id: 3 });
    expect(getRecord(people, "5", new URLSearchParams("fields=name"))).toEqual({ name: "eve" });
  });

  it("looks up by string id", () => {
    const ds = load(parseDataset("sku,n\nA-1,1\n../x,2\n", "csv", { idField: "sku" }));
    expect(getRecord(ds, "A-1")).toEqual({ sku: "A-1", n: 1 });
    expect(getRecord(ds, "../x")).toEqual({ sku: "../x", n: 2 }); // a real id that looks like a path is just data
    expect(queryError(() => getRecord(ds, "a-1")).code).toBe("record_not_found");
  });

  it("uses 1-based row numbers when there is no id field", () => {
    const ds = load(parseDataset("v\na\nb\n", "csv"));
    expect(ds.schema.idField).toBeNull();
    expect(getRecord(ds, "1")).toEqual({ v: "a" });
    expect(getRecord(ds, "2")).toEqual({ v: "b" });
    for (const id of ["0", "3", "01", "-1", "1.0", "abc", ""])
      expect(queryError(() => getRecord(ds, id)).code, id).toBe("record_not_found");
  });

  it("answers 404 record_not_found for anything else, including path traversal", () => {
    for (const id of [
      "999",
      "abc",
      "../../etc/passwd",
      "..%2F..%2Fetc%2Fpasswd",
      "%2e%2e",
      "..",
      "/",
      "\u0000",
      "1e400",
      "x".repeat(5000),
      "__proto__",
      "constructor",
    ]) {
      const err = queryError(() => getRecord(people, id));
      expect(err.code).toBe("record_not_found");
      expect(err.status).toBe(404);
      expect(String((err.details as { id: string }).id).length).toBeLessThanOrEqual(201);
    }
  });
});

describe("loadDataset", () => {
  it("rejects artifacts that are not a normalized dataset", () => {
    const good = JSON.parse(JSON.stringify(parseDataset("a,b\n1,2\n", "csv")));
    expect(loadDataset(good).size).toBe(1);
    for (const bad of [
      null,
      42,
      {},
      { schema: good.schema },
      { schema: { ...good.schema, fields: [] }, rows: [] },
      { schema: good.schema, rows: [[1]] },
      { schema: { ...good.schema, idField: "zz" }, rows: good.rows },
    ]) {
      expect(() => loadDataset(bad)).toThrow();
    }
  });
});
