// Runs a typed RecordsQuery against a loaded dataset (matching rows from the most selective
// equality index, then sorted through cached ranks or permutations, then paged), and the
// `GET /v1/records/:id` lookup. Pure: no I/O.
import { NULL_RANK, type LoadedDataset } from "./loaded-dataset.ts";
import type { SearchText } from "./search-text.ts";
import { coerce, encodeCursor, parseFields } from "./query-params.ts";
import {
  QueryError,
  truncate,
  type Filter,
  type RecordItem,
  type RecordsPage,
  type RecordsQuery,
  type SortKey,
} from "./query-types.ts";
import type { Cell } from "./types.ts";

export function runRecordsQuery(dataset: LoadedDataset, query: RecordsQuery): RecordsPage {
  const matches = matchingRows(dataset, query);
  const total = matches === null ? dataset.size : matches.length;
  const page = query.offset < total ? pageRows(dataset, query, matches, total) : [];
  const fields = query.fields ?? dataset.schema.fields.map((_, i) => i);
  const next = query.offset + query.limit < total ? query.offset + query.limit : null;
  return {
    items: page.map((row) => toItem(dataset, row, fields)),
    total,
    limit: query.limit,
    offset: query.offset,
    nextOffset: next,
    nextCursor: next === null ? null : encodeCursor(next),
  };
}

/** The row numbers of the requested page, in sort order. */
function pageRows(
  dataset: LoadedDataset,
  query: RecordsQuery,
  matches: readonly number[] | null,
  total: number,
): number[] {
  const end = Math.min(total, query.offset + query.limit);
  const page: number[] = [];
  if (query.sort.length === 0) {
    for (let i = query.offset; i < end; i++) page.push(matches === null ? i : (matches[i] as number));
    return page;
  }
  if (matches !== null && !walkBeatsSort(dataset, query.sort, matches.length, end)) {
    const sorted = sortByRanks(dataset, query, matches);
    for (let i = query.offset; i < end; i++) page.push(sorted[i] as number);
    return page;
  }
  const perm = dataset.permutation(query.sort);
  if (matches === null) {
    for (let i = query.offset; i < end; i++) page.push(perm[i] as number);
    return page;
  }
  const isMatch = dataset.markRows(matches);
  let seen = 0;
  for (let i = 0; i < perm.length && seen < end; i++) {
    const row = perm[i] as number;
    if (!isMatch(row)) continue;
    if (seen >= query.offset) page.push(row);
    seen++;
  }
  return page;
}

/**
 * Whether walking the sort's permutation (skipping rows that do not match) is cheaper than sorting
 * the matches. With matches spread over the order, the walk visits about end × size / matches
 * rows, stops once the page is full (plus building the permutation if it is not cached, which later
 * queries reuse); sorting costs about m·log m comparisons. A walk never visits more than every row.
 */
function walkBeatsSort(dataset: LoadedDataset, sort: SortKey[], matches: number, end: number): boolean {
  if (matches === 0) return false;
  const build = dataset.hasPermutation(sort) ? 0 : dataset.size * sort.length;
  const walk = matches + Math.min(dataset.size, (end * dataset.size) / matches) + build;
  return walk < 4 * matches * Math.log2(matches + 2);
}

function sortByRanks(dataset: LoadedDataset, query: RecordsQuery, matches: readonly number[]): Uint32Array {
  const ranks = query.sort.map((k) => ({ rank: dataset.rank(k.field), desc: k.desc }));
  return Uint32Array.from(matches).sort((a, b) => {
    for (const { rank, desc } of ranks) {
      const ra = rank[a] as number;
      const rb = rank[b] as number;
      if (ra === rb) continue;
      if (ra === NULL_RANK) return 1;
      if (rb === NULL_RANK) return -1;
      return desc ? rb - ra : ra - rb;
    }
    return a - b;
  });
}

/** Rows of the most selective filter (from its equality index), and the filters left to check row by row. */
function indexCandidates(dataset: LoadedDataset, filters: Filter[]): { candidates: number[]; rest: Filter[] } {
  let best = -1;
  let bestCount = Infinity;
  filters.forEach((f, i) => {
    const index = dataset.equalityIndex(f.field);
    let count = 0;
    for (const value of f.values) {
      const entry = index.get(value);
      count += entry === undefined ? 0 : typeof entry === "number" ? 1 : entry.length;
    }
    if (count < bestCount) {
      best = i;
      bestCount = count;
    }
  });
  const chosen = filters[best] as Filter;
  const index = dataset.equalityIndex(chosen.field);
  const rest = filters.filter((_, i) => i !== best);
  const values = new Set(chosen.values);
  if (values.size === 1) {
    // One value: its index entry is the candidate list as is (read only, never copied).
    const entry = index.get(chosen.values[0] as Cell);
    return { candidates: entry === undefined ? [] : typeof entry === "number" ? [entry] : entry, rest };
  }
  const rows: number[] = [];
  for (const value of values) {
    const entry = index.get(value);
    if (entry === undefined) continue;
    if (typeof entry === "number") rows.push(entry);
    else for (const r of entry) rows.push(r);
  }
  rows.sort((a, b) => a - b);
  return { candidates: rows, rest };
}

/** Ascending row numbers matching the filters and q; null means every row. */
function matchingRows(dataset: LoadedDataset, query: RecordsQuery): readonly number[] | null {
  const { filters, q } = query;
  if (filters.length === 0 && q === null) return null;
  const { candidates, rest } =
    filters.length > 0 ? indexCandidates(dataset, filters) : { candidates: null, rest: filters };
  const text = q === null ? null : dataset.searchText();
  // No filter: q alone, answered from the search text in one pass of native indexOf.
  if (candidates === null) return (text as SearchText).rowsContaining(q as string);
  if (rest.length === 0 && text === null) return candidates;
  // Many candidates and a q: find q's rows in one pass, then keep those among the candidates.
  const viaText = text !== null && candidates.length * 16 > dataset.size;
  const isCandidate = viaText ? dataset.markRows(candidates) : null;
  const out: number[] = [];
  for (const r of viaText ? text.rowsContaining(q as string) : candidates) {
    if (isCandidate !== null && !isCandidate(r)) continue;
    const row = dataset.rows[r] as Cell[];
    let ok = true;
    for (const f of rest)
      if (!f.values.includes(row[f.field] ?? null)) {
        ok = false;
        break;
      }
    if (ok && (viaText || text === null || text.rowContains(r, q as string))) out.push(r);
  }
  return out;
}

function toItem(dataset: LoadedDataset, row: number, fields: number[]): RecordItem {
  const cells = dataset.rows[row] as Cell[];
  const item: RecordItem = {};
  for (const f of fields) {
    const name = dataset.field(f).name;
    const value = cells[f] ?? null;
    // A field literally named "__proto__" must stay data, not replace the object's prototype.
    if (name === "__proto__")
      Object.defineProperty(item, name, { value, enumerable: true, writable: true, configurable: true });
    else item[name] = value;
  }
  return item;
}

/**
 * Looks a record up by the dataset's idField (typed: "42" finds integer 42) or, without one, by
 * 1-based row number. Any other text, including path-like ids, is simply not found.
 */
export function getRecord(dataset: LoadedDataset, id: string, params?: URLSearchParams): RecordItem {
  const row = findRow(dataset, id);
  if (row === null) {
    throw new QueryError("record_not_found", `No record with id "${truncate(id)}".`, { id: truncate(id) });
  }
  const projection = params?.get("fields");
  const fields = parseFields(projection ?? undefined, dataset) ?? dataset.schema.fields.map((_, i) => i);
  return toItem(dataset, row, fields);
}

function findRow(dataset: LoadedDataset, id: string): number | null {
  const idField = dataset.schema.idField;
  if (idField === null) {
    if (!/^[1-9]\d{0,15}$/.test(id)) return null;
    const row = Number(id) - 1;
    return row < dataset.size ? row : null;
  }
  const field = dataset.fieldIndex.get(idField);
  if (field === undefined) return null;
  const value = coerce(id, dataset.field(field).type);
  if (value === undefined) return null;
  const entry = dataset.equalityIndex(field).get(value);
  if (entry === undefined) return null;
  return typeof entry === "number" ? entry : (entry[0] as number);
}
