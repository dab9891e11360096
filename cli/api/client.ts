// The 402claw platform HTTP API as the CLI sees it: bearer auth, JSON or multipart bodies, and
// the platform's error envelope ({error: {code, message}, requestId}) mapped to CliErrors with
// meaningful exit codes and a next step. Typed methods per route live in cli/api/platform.ts.
import { CliError, EXIT, type ExitCode } from "../core/errors.ts";
import { credentials } from "../config/store.ts";
import { streamedBody } from "./upload.ts";

export interface ApiOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  /** Public endpoints need no key. */
  auth?: boolean;
  query?: Record<string, string | number | undefined>;
  /** Called while a form body is sent (bytes sent, total bytes). */
  onUploadProgress?: (sent: number, total: number) => void;
}

export class ApiClient {
  readonly apiUrl: string;
  private readonly apiKey: string | null;
  constructor(apiUrl: string, apiKey: string | null) {
    this.apiUrl = apiUrl;
    this.apiKey = apiKey;
  }

  static fromEnv(): ApiClient {
    const c = credentials();
    return new ApiClient(c.apiUrl, c.apiKey);
  }

  requireKey(): void {
    if (!this.apiKey) {
      const hint = "no API key: run `claw login --key claw_sk_…` (or set CLAW_API_KEY)";
      throw new CliError(hint, EXIT.auth, "missing_key");
    }
  }

  async request<T>(path: string, options: ApiOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    if (auth) this.requireKey();
    const url = new URL(this.apiUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: "application/json", "user-agent": "claw-cli/0.1.0" };
    if (auth && this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const init: RequestInit & { duplex?: "half" } = { method: options.method ?? "GET", headers };
    if (options.form) {
      const streamed = await streamedBody(options.form, options.onUploadProgress);
      headers["content-type"] = streamed.contentType;
      init.body = streamed.body;
      init.duplex = "half";
    } else if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
    } catch (err) {
      throw unreachable(this.apiUrl, err);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text for the error message
    }
    if (res.ok) return parsed as T;
    throw apiError(res.status, parsed, res.headers.get("x-request-id"));
  }
}

function unreachable(apiUrl: string, err: unknown): CliError {
  const inner = (err as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  const cause = inner?.code ?? inner?.errors?.[0]?.code ?? (err as Error).message;
  return new CliError(
    `cannot reach ${apiUrl} (${cause}): is the platform running (\`npm start\`)? ` +
      "Check CLAW_API_URL or `claw login --api-url`",
    EXIT.unavailable,
    "unreachable",
  );
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 429 || status >= 500) return EXIT.unavailable;
  if (status >= 400) return EXIT.usage;
  return EXIT.failure;
}

const NEXT_STEP: Record<string, string> = {
  unauthorized: "check the key with `claw whoami`, or run `claw login` again",
  invalid_api_key: "check the key with `claw whoami`, or run `claw login` again",
  insufficient_scope: "this key lacks the scope: create one with `claw keys create --scope …`",
  tenant_not_found: "see your APIs with `claw list`",
  slug_taken: "pick another --name",
  resource_type_mismatch: "pick another --name, or `claw rm` the old one first",
};

interface ErrorEnvelope {
  error?: { code?: string; message?: string; details?: unknown };
  requestId?: string;
}

function apiError(status: number, body: unknown, requestId: string | null): CliError {
  const envelope: ErrorEnvelope = typeof body === "object" && body !== null ? (body as ErrorEnvelope) : {};
  const code = envelope.error?.code ?? `http_${status}`;
  let message = envelope.error?.message ?? (typeof body === "string" && body ? body.slice(0, 200) : `HTTP ${status}`);
  const next = NEXT_STEP[code];
  if (next && !message.includes(next)) message += `: ${next}`;
  const rid = envelope.requestId ?? requestId;
  const where = `${code}, HTTP ${status}${rid ? `, ${rid}` : ""}`;
  return new CliError(`${message} (${where})`, exitCodeForStatus(status), code, envelope.error?.details);
}
