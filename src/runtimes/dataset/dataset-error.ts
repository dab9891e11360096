// Refused uploads: the stable codes of dataset ingestion, the limits they enforce, and the checks
// shared by the CSV and JSON parsers. A DatasetError is an ApiError (4xx), so the control plane
// rethrows it as is.
import { ApiError } from "../../http/errors.ts";

export type DatasetErrorCode =
  | "dataset_empty"
  | "dataset_malformed"
  | "dataset_header_missing"
  | "dataset_too_many_fields"
  | "dataset_too_large"
  | "dataset_bad_id_field";

export const DATASET_LIMITS = {
  maxFields: 500,
  maxFieldNameLength: 256,
  /**
   * The tenant engine holds the whole dataset in one isolate (128 MB). Measured in V8 (Node 24),
   * JSON.parse of the stored form costs ~19 bytes per cell (3.7M cells: 69 MB) on top of the
   * JSON text while it parses, so 4M cells is the most that loads with headroom. Bytes are
   * limited separately by the control plane (MAX_DATASET_BYTES).
   */
  maxCells: 4_000_000,
  maxRows: 1_000_000,
} as const;

/** A refused upload. Extends the dispatcher's ApiError so the control plane can rethrow it as is. */
export class DatasetError extends ApiError {
  declare readonly code: DatasetErrorCode;
  constructor(code: DatasetErrorCode, message: string, details?: Record<string, unknown>) {
    super(code === "dataset_too_large" ? 413 : 400, code, message, details);
    this.name = "DatasetError";
  }
}

export function checkFieldName(name: string, where: Record<string, unknown>): void {
  if (name === "") {
    throw new DatasetError("dataset_header_missing", "Every column needs a non-empty name.", {
      reason: "empty_name",
      ...where,
    });
  }
  if (name.length > DATASET_LIMITS.maxFieldNameLength) {
    throw new DatasetError(
      "dataset_header_missing",
      `Field names are limited to ${DATASET_LIMITS.maxFieldNameLength} characters.`,
      {
        reason: "name_too_long",
        ...where,
      },
    );
  }
}

export function checkSize(rows: number, fields: number): void {
  if (rows > DATASET_LIMITS.maxRows || rows * fields > DATASET_LIMITS.maxCells) {
    throw new DatasetError(
      "dataset_too_large",
      `Datasets are limited to ${DATASET_LIMITS.maxRows} rows and ${DATASET_LIMITS.maxCells} cells.`,
      {
        rows,
        fields,
        maxRows: DATASET_LIMITS.maxRows,
        maxCells: DATASET_LIMITS.maxCells,
      },
    );
  }
}
