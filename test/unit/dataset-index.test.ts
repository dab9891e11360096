// The dataset engine's indexed paths (search-text.ts, the equality-index candidates, the choice
// between walking a cached sort permutation and sorting the matches) agree with a plain scan of
// every row, on random datasets and queries (fast-check). Each query runs twice on one loaded
// dataset (the second run finds its permutation cached, so it may take the other path) and once on
// a freshly loaded copy.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Cell, NormalizedDataset } from "../../src/runtimes/dataset/parse.ts";
import { parseRecordsQuery, runRecordsQuery, type RecordsQuery } from "../../src/runtimes/dataset/query.ts";
import type { LoadedDataset } from "../../src/runtimes/dataset/loaded-dataset.ts";
import { SearchText } from "../../src/runtimes/dataset/search-text.ts";
import { load } from "../support/dataset-query.ts";

const FIELDS = [
  { name: "id", type: "integer", nullable: false },
  { name: "cat", type: "string", nullable: true },
  { name: "num", type: "number", nullable: true },
  { name: "flag", type: "boolean", nullable: true },
  { name: "text", type: "string", nullable: true },
] as const;

const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom("ab", "Ab", "abc", "b\u0000a", "xyz", "ÄÖ", "ab ab", ""),
);
// "a" is rare, so `cat=a` is a filter selective enough for the per-candidate q check.
const cat = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Cell>("a") },
  { weight: 24, arbitrary: fc.constantFrom<Cell>("B", "b", "", null) },
);
const row = fc.tuple(
  cat,
  fc.constantFrom<Cell>(1, 2, 2.5, -1, null),
  fc.constantFrom<Cell>(true, false, null),
  fc.option(text, { nil: null }),
);
// Small datasets, and some of 130-200 rows (fast-check keeps plain arrays short by default).
const rowsOf = fc.oneof(fc.array(row, { maxLength: 30 }), fc.array(row, { minLength: 130, maxLength: 200 }));
const dataset = rowsOf.map(
  (rows): NormalizedDataset => ({
    schema: { fields: FIELDS.map((f) => ({ ...f })), idField: "id", rows: rows.length },
    rows: rows.map((r, i) => [i + 1, ...r]),
  }),
);

const filter = fc.oneof(
  fc.tuple(fc.constant("cat"), fc.oneof(fc.constant(["a"]), fc.subarray(["a", "B", "b", ""], { minLength: 1 }))),
  fc.tuple(fc.constant("num"), fc.subarray(["1", "2", "2.5", ""], { minLength: 1 })),
  fc.tuple(fc.constant("flag"), fc.subarray(["true", "false"], { minLength: 1 })),
);
const params = fc
  .record({
    filters: fc.array(filter, { maxLength: 2 }),
    q: fc.option(fc.oneof(text, fc.constantFrom("a", "b", "ab", "b\u0000", "\u0000a")), { nil: null }),
    sort: fc.subarray(["id", "-cat", "cat", "num", "-num", "flag", "-text", "text"], { maxLength: 3 }),
    limit: fc.integer({ min: 1, max: 30 }),
    offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 210 })),
  })
  .map((p) => {
    const out = new URLSearchParams();
    for (const [field, values] of p.filters) for (const v of values) out.append(field, v);
    if (p.q !== null) out.set("q", p.q);
    const seen = new Set<string>();
    const sort = p.sort.filter((s) => !seen.has(s.replace("-", "")) && seen.add(s.replace("-", "")));
    if (sort.length) out.set("sort", sort.join(","));
    out.set("limit", String(p.limit));
    out.set("offset", String(p.offset));
    return out;
  });

/** Row texts exactly as the engine defines q: lowercased string cells, each followed by "\0". */
function rowText(cells: readonly Cell[]): string {
  let t = "";
  FIELDS.forEach((f, i) => {
    const v = cells[i];
    if (f.type === "string" && typeof v === "string") t += v.toLowerCase() + "\u0000";
  });
  return t;
}

function compare(x: Cell, y: Cell): number {
  if (typeof x === "string" && typeof y === "string") {
    const [fx, fy] = [x.toLowerCase(), y.toLowerCase()];
    return fx !== fy ? (fx < fy ? -1 : 1) : x < y ? -1 : 1;
  }
  return Number(x) - Number(y);
}

/** Every row tested, then a stable sort: the obvious implementation. */
function plainScan(ds: NormalizedDataset, query: RecordsQuery) {
  const rows = ds.rows
    .map((_, i) => i)
    .filter((r) => query.filters.every((f) => f.values.includes(ds.rows[r]![f.field] ?? null)))
    .filter((r) => query.q === null || rowText(ds.rows[r]!).includes(query.q));
  rows.sort((a, b) => {
    for (const { field, desc } of query.sort) {
      const x = ds.rows[a]![field] ?? null;
      const y = ds.rows[b]![field] ?? null;
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return desc ? -compare(x, y) : compare(x, y);
    }
    return a - b;
  });
  return { total: rows.length, ids: rows.slice(query.offset, query.offset + query.limit).map((r) => r + 1) };
}

function engine(ds: LoadedDataset, query: RecordsQuery) {
  const page = runRecordsQuery(ds, query);
  return { total: page.total, ids: page.items.map((i) => i.id) };
}

describe("indexed dataset queries equal a plain scan", () => {
  it("filters, q, sort and paging on random datasets", () => {
    fc.assert(
      fc.property(dataset, fc.array(params, { minLength: 1, maxLength: 6 }), (raw, queries) => {
        const warm = load(raw);
        for (const p of queries) {
          const query = parseRecordsQuery(p, warm);
          const expected = plainScan(raw, query);
          expect(engine(warm, query)).toEqual(expected);
          expect(engine(warm, query)).toEqual(expected);
          expect(engine(load(raw), query)).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("SearchText.rowsContaining and rowContains equal includes on each row's own text", () => {
    const cells = fc.array(fc.option(fc.string({ maxLength: 6 }), { nil: null }), { minLength: 2, maxLength: 2 });
    fc.assert(
      fc.property(fc.array(cells, { maxLength: 60 }), fc.string({ minLength: 1, maxLength: 4 }), (rows, needle) => {
        const fields = [
          { name: "a", type: "string" as const, nullable: true },
          { name: "b", type: "string" as const, nullable: true },
        ];
        const index = SearchText.build(rows, fields);
        const texts = rows.map((r) => r.map((v) => (typeof v === "string" ? v.toLowerCase() + "\u0000" : "")).join(""));
        // Needles taken from the texts themselves too, so hits (and hits across rows) are common.
        const joined = texts.join("");
        const from = joined.length ? joined.slice(needle.length % joined.length).slice(0, needle.length) : needle;
        for (const q of [needle.toLowerCase(), from].filter((s) => s.length > 0)) {
          const expected = texts.flatMap((t, r) => (t.includes(q) ? [r] : []));
          expect(index.rowsContaining(q)).toEqual(expected);
          expect(texts.map((_, r) => index.rowContains(r, q))).toEqual(texts.map((t) => t.includes(q)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("the trigram index (q of 3+ characters) equals includes on each row, any characters, any position", () => {
    const unit = fc.oneof(
      fc.constantFrom("a", "b", "-", "\u0000", "é", "ß", "中", "😀"),
      fc.string({ unit: "binary", maxLength: 2 }),
    );
    const cell = fc.option(
      fc.array(unit, { maxLength: 8 }).map((u) => u.join("")),
      { nil: null },
    );
    const fields = [
      { name: "a", type: "string" as const, nullable: true },
      { name: "b", type: "string" as const, nullable: true },
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cell, cell), { maxLength: 80 }),
        fc.nat(),
        fc.integer({ min: 3, max: 9 }),
        (rows, at, len) => {
          const index = SearchText.build(rows, fields);
          const texts = rows.map((r) =>
            r.map((v) => (typeof v === "string" ? v.toLowerCase() + "\u0000" : "")).join(""),
          );
          const joined = texts.join("");
          // Needles cut from the text (hits within and across rows) and one that is not in it.
          const cut = joined.length ? joined.slice(at % joined.length, (at % joined.length) + len) : "";
          for (const q of [cut, `${cut}\u0001zz`].filter((x) => x.length >= 3)) {
            expect(index.rowsContaining(q)).toEqual(texts.flatMap((t, r) => (t.includes(q) ? [r] : [])));
            expect(index.rowsContaining(q)).toEqual(texts.flatMap((t, r) => (t.includes(q) ? [r] : []))); // index reused
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
