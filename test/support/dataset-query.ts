// Helpers shared by the query engine tests: load a dataset as the engine does, run a query, catch a QueryError.

import { expect } from "vitest";
import type { NormalizedDataset } from "../../src/runtimes/dataset/parse.ts";
import {
  QueryError,
  loadDataset,
  queryRecords,
  type LoadedDataset,
  type RecordsPage,
} from "../../src/runtimes/dataset/query.ts";

// Round-trip through JSON like the engine does (R2 -> fetch -> JSON.parse).
export const load = (ds: NormalizedDataset): LoadedDataset => loadDataset(JSON.parse(JSON.stringify(ds)));

export const q = (ds: LoadedDataset, query: string): RecordsPage => queryRecords(ds, new URLSearchParams(query));
export const ids = (page: RecordsPage): unknown[] => page.items.map((i) => i.id);

export function queryError(fn: () => unknown): QueryError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(QueryError);
    return err as QueryError;
  }
  throw new Error("expected a QueryError");
}
