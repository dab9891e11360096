// The `q` index of a loaded dataset (docs/ARCHITECTURE.md §5): every row's lowercased string
// cells, each followed by "\0" so a match cannot span two fields, concatenated into ONE string
// with each row's start offset. A search is then a few native `indexOf` calls over that string
// (skipping to the next row after each hit) instead of one `includes` per row, with exactly the
// per-row semantics: row r matches iff its own text contains q. Built once per isolate. Pure.
//
// A q of three or more characters is answered from a trigram index (built on the first such q,
// for texts up to MAX_INDEXED_CHARS): the rows holding q's rarest trigram are the only candidates,
// each checked with `includes` on its own text. A scan costs ~1-2 ms per 2.5 M characters when
// q's prefix is common ("user-" on every row); the candidates of "r-2" are a few thousand rows.
import type { Cell, FieldSchema } from "./types.ts";

/** Longer texts are scanned: the trigram index (~one row id per character) would cost too much memory. */
export const MAX_INDEXED_CHARS = 4_000_000;

/** The trigram at `i` as one number (a small integer for Latin-1 text, the common case). */
function trigramAt(s: string, i: number): number {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  const c = s.charCodeAt(i + 2);
  if ((a | b | c) < 256) return (a << 16) | (b << 8) | c;
  return 2 ** 24 + (a * 65536 + b) * 65536 + c;
}

export class SearchText {
  /** All rows' texts, back to back. */
  readonly text: string;
  /** starts[r] = offset of row r's text; starts[size] = text.length. */
  readonly starts: Uint32Array;
  /** Trigram → ascending rows whose text holds it; null until the first q that uses it. */
  private trigrams: Map<number, number[]> | null = null;

  private constructor(text: string, starts: Uint32Array) {
    this.text = text;
    this.starts = starts;
  }

  static build(rows: readonly Cell[][], fields: readonly FieldSchema[]): SearchText {
    const stringFields = fields.flatMap((f, i) => (f.type === "string" ? [i] : []));
    const starts = new Uint32Array(rows.length + 1);
    const parts: string[] = new Array(rows.length);
    let offset = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as Cell[];
      let text = "";
      for (const f of stringFields) {
        const value = row[f];
        if (typeof value === "string") text += value.toLowerCase() + "\u0000";
      }
      starts[r] = offset;
      parts[r] = text;
      offset += text.length;
    }
    starts[rows.length] = offset;
    return new SearchText(parts.join(""), starts);
  }

  get size(): number {
    return this.starts.length - 1;
  }

  /** Row r's own text (a slice of the shared string). */
  rowText(r: number): string {
    return this.text.slice(this.starts[r] as number, this.starts[r + 1] as number);
  }

  rowContains(r: number, q: string): boolean {
    return this.rowText(r).includes(q);
  }

  /** Ascending rows whose text contains q (q non-empty). */
  rowsContaining(q: string): number[] {
    const index = q.length >= 3 && this.text.length <= MAX_INDEXED_CHARS ? this.trigramIndex() : null;
    if (index === null) return this.scan(q);
    let candidates: number[] | undefined;
    for (let i = 0; i + 3 <= q.length; i++) {
      const rows = index.get(trigramAt(q, i));
      if (rows === undefined) return [];
      if (candidates === undefined || rows.length < candidates.length) candidates = rows;
    }
    const out: number[] = [];
    for (const r of candidates as number[]) if (this.rowContains(r, q)) out.push(r);
    return out;
  }

  private trigramIndex(): Map<number, number[]> {
    if (this.trigrams) return this.trigrams;
    const { text, starts } = this;
    const index = new Map<number, number[]>();
    for (let r = 0; r < this.size; r++) {
      const end = starts[r + 1] as number;
      for (let i = starts[r] as number; i + 3 <= end; i++) {
        const gram = trigramAt(text, i);
        let rows = index.get(gram);
        if (rows === undefined) index.set(gram, (rows = []));
        if (rows[rows.length - 1] !== r) rows.push(r); // rows come in order: one entry per row
      }
    }
    this.trigrams = index;
    return index;
  }

  /** Every hit of q by native indexOf, skipping to the next row after each. */
  private scan(q: string): number[] {
    const { text, starts } = this;
    const out: number[] = [];
    let from = 0;
    let row = 0;
    for (;;) {
      const at = text.indexOf(q, from);
      if (at < 0) return out;
      row = rowAt(starts, at, row);
      const end = starts[row + 1] as number;
      // A hit that runs into the next row's text is no match of this row, and no later hit in
      // this row can end inside it either: either way the search goes on at the next row.
      if (at + q.length <= end) out.push(row);
      from = end;
    }
  }
}

/** The row whose text holds offset `at` (rows are searched in order, so from `hint` on). */
function rowAt(starts: Uint32Array, at: number, hint: number): number {
  let lo = hint;
  let hi = starts.length - 2;
  // Largest r with starts[r] <= at; empty rows share their start with the next row.
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((starts[mid] as number) <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
