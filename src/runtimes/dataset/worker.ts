// The dataset tenant engine: the Worker module that runs in each dataset tenant's own isolate
// (Worker Loader locally, Workers for Platforms in production), bundled by
// scripts/build-runtimes.mjs. Its only binding is DATASET, a Fetcher that returns the normalized
// dataset (JSON.stringify(NormalizedDataset)); it has no network. It serves the read-only query
// API and answers every failure with the platform's JSON error envelope.
import { ApiError, errorResponse } from "../../http/errors.ts";
import { getRecord, loadDataset, queryRecords, type LoadedDataset } from "./query.ts";

export interface DatasetEngineEnv {
  DATASET?: Fetcher;
}

const DATASET_URL = "https://dataset.internal/";
/** A waiter gives up on a load started by another request after this long and starts its own. */
const LOAD_WAIT_MS = 15_000;
const JSON_TYPE = "application/json; charset=utf-8";

// The isolate is keyed by tenant slug@version, so the parsed dataset is valid for its whole life.
let dataset: LoadedDataset | null = null;
// Shared by concurrent first requests so the dataset is fetched and parsed once. Created inside a
// request (workerd forbids I/O started at module scope) and dropped on failure so the next
// request retries.
let loading: Promise<LoadedDataset> | null = null;

/** Forgets the loaded dataset. For tests, which feed one module several datasets. */
export function resetDatasetCache(): void {
  dataset = null;
  loading = null;
}

function unavailable(reason: string): ApiError {
  return new ApiError(
    503,
    "dataset_unavailable",
    "The dataset could not be loaded; retry shortly.",
    { reason },
    { "retry-after": "1" },
  );
}

async function fetchDataset(env: DatasetEngineEnv | undefined): Promise<LoadedDataset> {
  const store = env?.DATASET;
  if (!store || typeof store.fetch !== "function") throw unavailable("no_dataset_binding");
  let text: string;
  try {
    const res = await store.fetch(DATASET_URL);
    if (!res.ok) throw unavailable(`dataset_store_status_${res.status}`);
    text = await res.text();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw unavailable("dataset_store_unreachable");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unavailable("dataset_not_json");
  }
  try {
    return loadDataset(parsed);
  } catch {
    throw unavailable("dataset_invalid");
  }
}

async function getDataset(env: DatasetEngineEnv | undefined): Promise<LoadedDataset> {
  if (dataset) return dataset;
  let pending = loading;
  if (!pending) {
    pending = fetchDataset(env).then((ds) => (dataset = ds));
    loading = pending;
  }
  // If the request that started the load is cancelled, its I/O may never settle; waiters must
  // not hang on it forever.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable("load_timeout")), LOAD_WAIT_MS);
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (err) {
    if (loading === pending) loading = null;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function json(body: unknown, requestId: string, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_TYPE, "x-request-id": requestId },
  });
}

const INDEX = {
  service: "402claw dataset API",
  endpoints: [
    {
      method: "GET",
      path: "/v1/records",
      description: "List records.",
      parameters: {
        q: "case-insensitive substring search over string fields",
        "<field>":
          "equality filter, value coerced to the field type; repeat to match any of several values; empty matches null",
        "filter[<field>]": "same, for fields named like a reserved parameter",
        sort: "comma-separated fields, '-' prefix for descending; nulls last",
        fields: "comma-separated projection",
        limit: "1..1000, default 100",
        offset: "0-based start",
        cursor: "nextCursor from a previous page (instead of offset)",
      },
    },
    {
      method: "GET",
      path: "/v1/records/{id}",
      description: "One record by the dataset's id field, or by 1-based row number when it has none. Optional fields=.",
    },
    { method: "GET", path: "/v1/schema", description: "Fields with types, the id field and the row count." },
    { method: "GET", path: "/health", description: "Liveness and row count." },
  ],
};

const RECORDS_PREFIX = "/v1/records/";

async function route(request: Request, env: DatasetEngineEnv | undefined, requestId: string): Promise<Response> {
  const url = new URL(request.url);
  let path = url.pathname;
  if (path.length > 1 && path.endsWith("/") && path !== RECORDS_PREFIX) path = path.slice(0, -1);
  const known =
    path === "/" ||
    path === "/health" ||
    path === "/v1/schema" ||
    path === "/v1/records" ||
    path.startsWith(RECORDS_PREFIX);
  if (!known)
    throw new ApiError(404, "not_found", `No endpoint at ${path.slice(0, 200)}; see GET / for the endpoints.`);
  if (request.method !== "GET" && request.method !== "HEAD") {
    throw new ApiError(
      405,
      "method_not_allowed",
      `${request.method} is not allowed; this API is read-only.`,
      undefined,
      { allow: "GET, HEAD" },
    );
  }
  if (path === "/") return json(INDEX, requestId);

  const ds = await getDataset(env);
  if (path === "/health") return json({ ok: true, rows: ds.size }, requestId);
  if (path === "/v1/schema")
    return json({ fields: ds.schema.fields, idField: ds.schema.idField, rows: ds.size }, requestId);
  if (path === "/v1/records" || path === RECORDS_PREFIX) return json(queryRecords(ds, url.searchParams), requestId);

  // The id is data, never a path: it is only ever compared against the loaded records.
  const rawId = path.slice(RECORDS_PREFIX.length);
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = rawId;
  }
  return json(getRecord(ds, id, url.searchParams), requestId);
}

export default {
  async fetch(request: Request, env: DatasetEngineEnv): Promise<Response> {
    const requestId = request.headers.get("x-request-id") || crypto.randomUUID();
    let response: Response;
    try {
      response = await route(request, env, requestId);
    } catch (err) {
      const apiError =
        err instanceof ApiError ? err : new ApiError(500, "internal_error", "The dataset engine failed unexpectedly.");
      if (!(err instanceof ApiError)) console.error("dataset engine error", err);
      response = errorResponse(apiError, requestId);
    }
    if (request.method === "HEAD") return new Response(null, { status: response.status, headers: response.headers });
    return response;
  },
};
