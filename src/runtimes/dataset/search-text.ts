// The `q` index of a loaded dataset (docs/ARCHITECTURE.md §5): every row's lowercased string
// cells, each followed by "\0" so a match cannot span two fields, concatenated into ONE string
// with each row's start offset. A search is then a few native `indexOf` calls over that string
// (skipping to the next row after each hit) instead of one `includes` per row, with exactly the
// per-row semantics: row r matches iff its own text contains q. Built once per isolate. Pure.
import type { Cell, FieldSchema } from "./types.ts";

export class SearchText {
  /** All rows' texts, back to back. */
  readonly text: string;
  /** starts[r] = offset of row r's text; starts[size] = text.length. */
  readonly starts: Uint32Array;

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
