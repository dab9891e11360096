// The one JSON error envelope (DESIGN §8): {"error": {"code", "message", "details"?}, "requestId"}.
// Every refusal anywhere in the dispatcher is an ApiError so codes stay stable.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
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
