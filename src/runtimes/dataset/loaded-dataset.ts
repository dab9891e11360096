// A loaded dataset and the indexes that make queries fast, built lazily once per isolate and
// cached on it (per-field equality index, per-field sort rank, per-sort-spec permutation,
// lowercase search text, search-text.ts); and loadDataset, which checks a stored dataset before trusting it.
import * as v from "valibot";
import type { SortKey } from "./query-types.ts";
import { SearchText } from "./search-text.ts";
import type { Cell, DatasetSchema, FieldSchema, FieldType, NormalizedDataset } from "./types.ts";

/** The rank of a null cell: after every value, whichever the direction. */
export const NULL_RANK = 0xffffffff;
const MAX_CACHED_PERMUTATIONS = 32;

/** A dataset plus the lazily built indexes that make queries fast. One per isolate. */
export class LoadedDataset {
  readonly schema: DatasetSchema;
  readonly rows: Cell[][];
  readonly fieldIndex: Map<string, number>;
  private readonly equality = new Map<number, Map<Cell, number | number[]>>();
  private readonly ranks = new Map<number, Uint32Array>();
  private readonly permutations = new Map<string, Uint32Array>();
  private haystack: SearchText | null = null;
  private marks: Uint32Array | null = null;
  private markGeneration = 0;

  constructor(dataset: NormalizedDataset) {
    this.schema = dataset.schema;
    this.rows = dataset.rows;
    this.fieldIndex = new Map(dataset.schema.fields.map((f, i) => [f.name, i]));
  }

  get size(): number {
    return this.rows.length;
  }

  field(index: number): FieldSchema {
    return this.schema.fields[index] as FieldSchema;
  }

  /** value -> ascending row numbers (a bare number when the value occurs once, which is the usual id case). */
  equalityIndex(field: number): Map<Cell, number | number[]> {
    let index = this.equality.get(field);
    if (!index) {
      index = new Map();
      const rows = this.rows;
      for (let r = 0; r < rows.length; r++) {
        const value = (rows[r] as Cell[])[field] ?? null;
        const entry = index.get(value);
        if (entry === undefined) index.set(value, r);
        else if (typeof entry === "number") index.set(value, [entry, r]);
        else entry.push(r);
      }
      this.equality.set(field, index);
    }
    return index;
  }

  /** Dense rank of each row's value in sort order (equal values share a rank); nulls get NULL_RANK. */
  rank(field: number): Uint32Array {
    let rank = this.ranks.get(field);
    if (!rank) {
      rank = computeRank(this.rows, field, this.field(field).type);
      this.ranks.set(field, rank);
    }
    return rank;
  }

  /** Whether `permutation(sort)` is already built (it costs O(keys * n) the first time). */
  hasPermutation(sort: SortKey[]): boolean {
    return this.permutations.has(sortKey(sort));
  }

  /** Every row number in the order of `sort` (stable, ties by row number). */
  permutation(sort: SortKey[]): Uint32Array {
    const key = sortKey(sort);
    let perm = this.permutations.get(key);
    if (perm) {
      // Refresh recency so the bounded cache evicts the least recently used spec.
      this.permutations.delete(key);
      this.permutations.set(key, perm);
      return perm;
    }
    perm = identity(this.size);
    // LSD radix: stable counting sorts by rank from the last key to the first, O(keys * n).
    for (let k = sort.length - 1; k >= 0; k--) {
      const s = sort[k] as SortKey;
      perm = countingSortByRank(perm, this.rank(s.field), s.desc);
    }
    if (this.permutations.size >= MAX_CACHED_PERMUTATIONS) {
      const oldest = this.permutations.keys().next().value;
      if (oldest !== undefined) this.permutations.delete(oldest);
    }
    this.permutations.set(key, perm);
    return perm;
  }

  /** The `q` index: lowercased string cells of every row in one string (search-text.ts). */
  searchText(): SearchText {
    if (!this.haystack) this.haystack = SearchText.build(this.rows, this.schema.fields);
    return this.haystack;
  }

  /** A scratch membership set reused across queries (queries are synchronous, so no overlap). */
  markRows(rows: ArrayLike<number>): (row: number) => boolean {
    if (!this.marks) this.marks = new Uint32Array(this.size);
    if (++this.markGeneration === 0xffffffff) {
      this.marks.fill(0);
      this.markGeneration = 1;
    }
    const marks = this.marks;
    const generation = this.markGeneration;
    for (let i = 0; i < rows.length; i++) marks[rows[i] as number] = generation;
    return (row) => marks[row] === generation;
  }
}

function sortKey(sort: SortKey[]): string {
  return sort.map((k) => (k.desc ? `-${k.field}` : `${k.field}`)).join(",");
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

// Ranks sort the distinct values, not the rows (numbers with the native typed-array sort): on 100k
// rows the first query sorting by a field pays ~10-60 ms instead of ~70-140 ms, which matters
// under a tenant's CPU limit. Later queries only read the ranks.
function computeRank(rows: Cell[][], field: number, type: FieldType): Uint32Array {
  const n = rows.length;
  const rank = new Uint32Array(n);
  if (type === "string") {
    const distinct = new Map<string, number>();
    for (let r = 0; r < n; r++) {
      const value = (rows[r] as Cell[])[field];
      if (typeof value === "string") distinct.set(value, 0);
    }
    // Case-insensitive first, then by code unit, so the order is total and deterministic.
    const raws = [...distinct.keys()];
    const folded = raws.map((raw) => raw.toLowerCase());
    const order = raws.map((_, i) => i);
    order.sort((a, b) => {
      const fa = folded[a] as string;
      const fb = folded[b] as string;
      if (fa !== fb) return fa < fb ? -1 : 1;
      return (raws[a] as string) < (raws[b] as string) ? -1 : 1;
    });
    order.forEach((i, position) => distinct.set(raws[i] as string, position));
    for (let r = 0; r < n; r++) {
      const value = (rows[r] as Cell[])[field];
      rank[r] = typeof value === "string" ? (distinct.get(value) as number) : NULL_RANK;
    }
    return rank;
  }
  // Numbers and booleans (false < true) as doubles: native numeric sort, dedupe, binary search.
  const numeric = new Float64Array(n);
  let count = 0;
  for (let r = 0; r < n; r++) {
    const value = (rows[r] as Cell[])[field] ?? null;
    if (value !== null) numeric[count++] = Number(value);
  }
  const sorted = numeric.subarray(0, count).sort();
  let unique = 0;
  for (let i = 0; i < count; i++)
    if (i === 0 || sorted[i] !== sorted[unique - 1]) sorted[unique++] = sorted[i] as number;
  for (let r = 0; r < n; r++) {
    const value = (rows[r] as Cell[])[field] ?? null;
    if (value === null) {
      rank[r] = NULL_RANK;
      continue;
    }
    const x = Number(value);
    let lo = 0;
    let hi = unique - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    rank[r] = lo;
  }
  return rank;
}

/** Stable counting sort of `rows` by rank; nulls last whatever the direction. */
function countingSortByRank(rows: Uint32Array, rank: Uint32Array, desc: boolean): Uint32Array {
  let maxRank = 0;
  for (let i = 0; i < rank.length; i++) {
    const r = rank[i] as number;
    if (r !== NULL_RANK && r > maxRank) maxRank = r;
  }
  const buckets = maxRank + 2; // one per rank, plus the null bucket at the end
  const counts = new Uint32Array(buckets + 1);
  const bucketOf = (row: number): number => {
    const r = rank[row] as number;
    return r === NULL_RANK ? buckets - 1 : desc ? maxRank - r : r;
  };
  for (let i = 0; i < rows.length; i++) counts[bucketOf(rows[i] as number) + 1]!++;
  for (let b = 1; b <= buckets; b++) counts[b]! += counts[b - 1] as number;
  const out = new Uint32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as number;
    out[counts[bucketOf(row)]!++] = row;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading

const StoredSchema = v.object({
  fields: v.pipe(
    v.array(
      v.object({
        name: v.pipe(v.string(), v.minLength(1)),
        type: v.picklist(["integer", "number", "boolean", "string"]),
        nullable: v.boolean(),
      }),
    ),
    v.minLength(1),
  ),
  idField: v.nullable(v.string()),
  rows: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

/**
 * Checks the stored dataset's shape before trusting it (a bad artifact must fail loudly at load,
 * not as odd query results). Rows are checked for width only: cells were typed by parse.ts.
 */
export function loadDataset(value: unknown): LoadedDataset {
  if (typeof value !== "object" || value === null) throw new Error("dataset is not an object");
  const { schema, rows } = value as { schema?: unknown; rows?: unknown };
  const parsed = v.safeParse(StoredSchema, schema);
  if (!parsed.success) throw new Error(`dataset schema is invalid: ${parsed.issues[0].message}`);
  if (!Array.isArray(rows)) throw new Error("dataset rows are missing");
  const width = parsed.output.fields.length;
  for (let r = 0; r < rows.length; r++) {
    const row: unknown = rows[r];
    if (!Array.isArray(row) || row.length !== width)
      throw new Error(`dataset row ${r + 1} does not have ${width} cells`);
  }
  const idField = parsed.output.idField;
  if (idField !== null && !parsed.output.fields.some((f) => f.name === idField))
    throw new Error("dataset idField is not a field");
  return new LoadedDataset({ schema: { ...parsed.output, rows: rows.length }, rows: rows as Cell[][] });
}
