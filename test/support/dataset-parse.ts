// Helpers shared by the parseDataset tests: catch a DatasetError, read inferred types/nullability.

import { expect } from "vitest";
import { DatasetError, type NormalizedDataset } from "../../src/runtimes/dataset/parse.ts";

export function fail(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error("expected a DatasetError");
}

export const types = (ds: NormalizedDataset) => Object.fromEntries(ds.schema.fields.map((f) => [f.name, f.type]));
export const nullable = (ds: NormalizedDataset) =>
  Object.fromEntries(ds.schema.fields.map((f) => [f.name, f.nullable]));
