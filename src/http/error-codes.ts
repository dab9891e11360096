// Every stable error code the platform answers with, and its HTTP status (docs/ARCHITECTURE.md
// §8). ApiError (errors.ts) is typed by this table: a code that is not here does not compile, and
// a status that is not the code's does not compile either. Clients match on `code`; the status is
// the code's, everywhere, so one code never means two things.
//
// A code lists several statuses only where one check is answered at two points of the flow and
// both are pinned by clients: noted per code. To add a code: one line here, in its group.
export const ERROR_CODES = {
  // Generic request problems (src/http, any handler).
  invalid_request: 400,
  invalid_json: 400,
  invalid_parameter: 400,
  payload_too_large: 413,
  invalid_content_length: 400,
  body_unreadable: 400,
  invalid_path: 400,
  invalid_json_schema: 400,
  invalid_example: 400,
  unsupported_media_type: 415,
  route_not_found: 404,
  method_not_allowed: 405,
  not_found: 404,
  internal_error: 500,
  platform_misconfigured: 503,

  // Auth (src/control/auth.ts).
  unauthorized: 401,
  insufficient_scope: 403,

  // Tenancy: resolving a request to a tenant (src/index.ts, src/tenancy).
  invalid_slug: 400,
  tenant_not_found: 404,
  unknown_host: 404,

  // The TenantMeter's refusals (objects/meter/types.ts RefusalCode, PaymentRefusal).
  rate_limited: 429,
  quota_exceeded: 429,
  tenant_not_configured: 503,
  payment_in_flight: 409,
  idempotency_key_conflict: 409,
  payment_request_mismatch: 409,

  // x402 (src/payments): the 402 answers carry `code` in the x402 body, the rest the envelope.
  payment_required: 402,
  invalid_payment_header: 402,
  unsupported_x402_version: 402,
  payment_mismatch: 402,
  payment_expired: 402,
  payment_invalid: 402,
  spend_cap_exceeded: 402,
  settlement_failed: 402,
  settlement_pending: 503,
  payments_unavailable: 503,
  facilitator_unavailable: 503,

  // Tenant runtimes (src/runtimes).
  tenant_not_deployed: 404,
  tenant_worker_failure: 502,
  tenant_timeout: 504,
  egress_denied: 403,
  proxy_loop: 508,
  proxy_misconfigured: 502,
  upstream_refused: 502,
  upstream_timeout: 504,
  upstream_unreachable: 502,
  upstream_too_large: 502,
  dataset_unavailable: 503,
  // Dataset queries (src/runtimes/dataset/query.ts QueryError).
  unknown_field: 400,
  invalid_filter: 400,
  record_not_found: 404,

  // Control plane: deploys, tenants, keys, wallets, publish (src/control, src/public/wallets.ts).
  invalid_config: 400,
  // A `prices` map (src/config/prices.ts) with a bad pattern, a negative price or a duplicate operation.
  invalid_price: 400,
  invalid_secrets: 400,
  invalid_multipart: 400,
  invalid_address: 400,
  missing_file: 400,
  missing_code: 400,
  unexpected_part: 400,
  unknown_format: 400,
  unknown_directory: 400,
  unsafe_upstream: 400,
  /** One status for deploy and publish: the fix is the same input (send the secret). */
  missing_secret: 400,
  plan_locked: 403,
  creator_not_found: 404,
  key_not_found: 404,
  wallet_not_found: 404,
  api_not_found: 404,
  slug_taken: 409,
  host_taken: 409,
  resource_type_mismatch: 409,
  concurrent_update: 409,
  too_many_wallets: 409,
  artifact_missing: 409,
  code_too_large: 413,
  publish_unsupported: 422,
  publishing_unavailable: 503,
  secrets_unavailable: 503,
  publish_failed: 502,
  // The operator's raw-event view (src/telemetry/reader.ts): Analytics Engine not readable.
  telemetry_unavailable: 503,
  telemetry_failed: 502,
  // Web pages (src/web): assets and the dashboard's sign-in forms.
  asset_not_found: 404,
  cross_site_request: 403,
  csrf_mismatch: 403,

  // Function code refused at deploy (src/runtimes/function/instrument.ts CodeError).
  invalid_code: 422,
  missing_default_export: 422,
  reserved_identifier: 422,
  // Dataset uploads refused at deploy (src/runtimes/dataset/parse.ts DatasetError): the deploy
  // answers 422; 400 is the parser's own DatasetError status (never sent as is: rethrown as 422).
  dataset_empty: [422, 400],
  dataset_malformed: [422, 400],
  dataset_header_missing: [422, 400],
  dataset_too_many_fields: [422, 400],
  dataset_bad_id_field: [422, 400],
  /** 413 when the upload's bytes are over MAX_DATASET_BYTES, 422 when its rows or cells are. */
  dataset_too_large: [413, 422],
} as const satisfies Record<string, HttpErrorStatus | readonly HttpErrorStatus[]>;

type HttpErrorStatus = 400 | 401 | 402 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503 | 504 | 508;

export type ErrorCode = keyof typeof ERROR_CODES;

type Flat<T> = T extends readonly (infer S extends number)[] ? S : Extract<T, number>;

/** The status(es) a code is answered with. */
export type StatusOf<C extends ErrorCode> = Flat<(typeof ERROR_CODES)[C]>;

/** Every status some code is answered with. */
export type ErrorStatus = StatusOf<ErrorCode>;

const CODE_SET: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && CODE_SET.has(value);
}

/** The statuses of `code`, as a list (first: the usual one). */
export function statusesOf(code: ErrorCode): readonly number[] {
  const entry: number | readonly number[] = ERROR_CODES[code];
  return typeof entry === "number" ? [entry] : entry;
}
