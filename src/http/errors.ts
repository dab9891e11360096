// The one JSON error envelope (docs/ARCHITECTURE.md §8): {"error": {"code", "message", "details"?},
// "requestId"}. Every refusal anywhere in the dispatcher is an ApiError so codes stay stable.
//
// `new ApiError(status, code, message, details?, headers?)`: `code` must be in ERROR_CODES
// (error-codes.ts) and `status` must be that code's status there, both checked at compile time
// (the code's type parameter is inferred from the argument). Subclasses (DatasetError, QueryError)
// call `super` with any listed status and code.
import { statusesOf, type ErrorCode, type ErrorStatus, type StatusOf } from "./error-codes.ts";

// Plain fields, not constructor parameter properties: Node's type stripping (the node tests load
// these modules directly) accepts only erasable TypeScript syntax.
class ApiErrorClass extends Error {
  readonly status: ErrorStatus;
  readonly code: ErrorCode;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;
  constructor(
    status: ErrorStatus,
    code: ErrorCode,
    message: string,
    details?: unknown,
    headers?: Record<string, string>,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

interface ApiErrorConstructor {
  new <C extends ErrorCode = ErrorCode>(
    status: StatusOf<C>,
    code: C,
    message: string,
    details?: unknown,
    headers?: Record<string, string>,
  ): ApiErrorClass;
  readonly prototype: ApiErrorClass;
}

export const ApiError: ApiErrorConstructor = ApiErrorClass;
export type ApiError = ApiErrorClass;

type ExtraHeaders = Record<string, string>;

/** An ApiError with the code's (first) status from the table: for codes chosen at run time. */
export function apiError(code: ErrorCode, message: string, details?: unknown, headers?: ExtraHeaders): ApiError {
  return new ApiError(statusesOf(code)[0] as ErrorStatus, code, message, details, headers);
}

/** The same error with extra response headers (e.g. the meter's rate-limit headers). */
export function withHeaders(err: ApiError, headers: Record<string, string> | undefined): ApiError {
  if (!headers || Object.keys(headers).length === 0) return err;
  return new ApiError(err.status, err.code, err.message, err.details, { ...err.headers, ...headers });
}

export function errorResponse(err: ApiError, requestId: string): Response {
  const body: Record<string, unknown> = { error: { code: err.code, message: err.message }, requestId };
  if (err.details !== undefined) (body.error as Record<string, unknown>).details = err.details;
  const headers = new Headers(err.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set("x-request-id", requestId);
  return new Response(JSON.stringify(body), { status: err.status, headers });
}
