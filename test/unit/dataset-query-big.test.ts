// Query engine on a 100k-row dataset, checked against a naive reference implementation.

import { describe, expect, it } from "vitest";
import type { Cell, NormalizedDataset } from "../../src/runtimes/dataset/parse.ts";
import { getRecord } from "../../src/runtimes/dataset/query.ts";
import { ids, load, q } from "../support/dataset-query.ts";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

function bigDataset(n: number): NormalizedDataset {
  const rand = lcg(402);
  const cities = [
    "Oslo",
    "Rome",
    "Lima",
    "Kyiv",
    "Pune",
    "Cork",
    "Nice",
    "Bern",
    "Riga",
    "Doha",
    "oslo",
    "ROME",
    "Baku",
    "Lodz",
    "Graz",
    "Suva",
  ];
  const rows: Cell[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push([
      i + 1,
      `${rand() < 0.5 ? "Item" : "item"} ${Math.floor(rand() * 50_000)}`,
      rand() < 0.05 ? null : (cities[Math.floor(rand() * cities.length)] as string),
      rand() < 0.03 ? null : Math.round(rand() * 1000) / 10,
      Math.floor(rand() * 100),
      rand() < 0.5,
    ]);
  }
  return {
    schema: {
      fields: [
        { name: "id", type: "integer", nullable: false },
        { name: "name", type: "string", nullable: false },
        { name: "city", type: "string", nullable: true },
        { name: "score", type: "number", nullable: true },
        { name: "qty", type: "integer", nullable: false },
        { name: "active", type: "boolean", nullable: false },
      ],
      idField: "id",
      rows: n,
    },
    rows,
  };
}

/** The obvious, slow implementation the engine must agree with. */
function reference(
  ds: NormalizedDataset,
  spec: { eq?: [string, Cell[]][]; q?: string; sort?: [string, boolean][]; offset?: number; limit?: number },
) {
  const col = (name: string) => ds.schema.fields.findIndex((f) => f.name === name);
  const stringCols = ds.schema.fields.flatMap((f, i) => (f.type === "string" ? [i] : []));
  let rows = ds.rows.map((_, i) => i);
  for (const [name, values] of spec.eq ?? []) rows = rows.filter((r) => values.includes(ds.rows[r]![col(name)]!));
  if (spec.q) {
    const needle = spec.q.toLowerCase();
    rows = rows.filter((r) =>
      stringCols.some(
        (c) => typeof ds.rows[r]![c] === "string" && (ds.rows[r]![c] as string).toLowerCase().includes(needle),
      ),
    );
  }
  const keys = (spec.sort ?? []).map(([name, desc]) => ({ c: col(name), desc }));
  rows.sort((a, b) => {
    for (const { c, desc } of keys) {
      const x = ds.rows[a]![c]!;
      const y = ds.rows[b]![c]!;
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      let d: number;
      if (typeof x === "string" && typeof y === "string") {
        const fx = x.toLowerCase();
        const fy = y.toLowerCase();
        d = fx !== fy ? (fx < fy ? -1 : 1) : x < y ? -1 : 1;
      } else d = Number(x) - Number(y);
      return desc ? -d : d;
    }
    return a - b;
  });
  const offset = spec.offset ?? 0;
  const limit = spec.limit ?? 100;
  return { total: rows.length, ids: rows.slice(offset, offset + limit).map((r) => ds.rows[r]![0]) };
}

describe("100k-row dataset", () => {
  const raw = bigDataset(100_000);
  const ds = load(raw);

  const cases: [string, Parameters<typeof reference>[1]][] = [
    [
      "city=Oslo&sort=-score,name&limit=50",
      {
        eq: [["city", ["Oslo"]]],
        sort: [
          ["score", true],
          ["name", false],
        ],
        limit: 50,
      },
    ],
    [
      "active=true&sort=qty,-id&offset=1000&limit=100",
      {
        eq: [["active", [true]]],
        sort: [
          ["qty", false],
          ["id", true],
        ],
        offset: 1000,
        limit: 100,
      },
    ],
    [
      "sort=city,-score&offset=99950&limit=100",
      {
        sort: [
          ["city", false],
          ["score", true],
        ],
        offset: 99_950,
        limit: 100,
      },
    ],
    ["sort=-city&limit=1000", { sort: [["city", true]], limit: 1000 }],
    ["q=item 123&sort=-qty", { q: "item 123", sort: [["qty", true]] }],
    [
      "qty=5&qty=7&city=Rome&sort=score",
      {
        eq: [
          ["qty", [5, 7]],
          ["city", ["Rome"]],
        ],
        sort: [["score", false]],
      },
    ],
    ["score=&sort=-name&offset=10", { eq: [["score", [null]]], sort: [["name", true]], offset: 10 }],
    [
      "city=Nice&active=false&offset=200",
      {
        eq: [
          ["city", ["Nice"]],
          ["active", [false]],
        ],
        offset: 200,
      },
    ],
    [
      "qty=42&sort=name,id",
      {
        eq: [["qty", [42]]],
        sort: [
          ["name", false],
          ["id", false],
        ],
      },
    ],
  ];

  it("agrees with the reference implementation", () => {
    for (const [query, spec] of cases) {
      const page = q(ds, query);
      const expected = reference(raw, spec);
      expect(page.total, query).toBe(expected.total);
      expect(ids(page), query).toEqual(expected.ids);
      const end = (spec.offset ?? 0) + (spec.limit ?? 100);
      expect(page.nextOffset, query).toBe(end < expected.total ? end : null);
    }
    expect(getRecord(ds, "77777")).toMatchObject({ id: 77777 });
  });
});
