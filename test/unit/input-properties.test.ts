// Property tests (fast-check) of the small parsers of outside input in the request path: tenant
// config validation (src/config/tenant-config.ts through validate/readJson), the tenant URL
// (opaque paths), the body-size pre-check, and the proxy's upstream header rule. Property: a
// valid result or a 4xx ApiError with a stable code; never another exception.
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  crossFieldProblems,
  TenantConfigInputSchema,
  TenantConfigPatchSchema,
} from "../../src/config/tenant-config.ts";
import { checkTenantBodySize, MAX_TENANT_BODY_BYTES } from "../../src/http/body-limit.ts";
import { readJson, validate } from "../../src/http/body.ts";
import { ApiError } from "../../src/http/errors.ts";
import { upstreamHeaderName } from "../../src/runtimes/proxy/upstream-headers.ts";
import { tenantUrl } from "../../src/runtimes/runtime.ts";
import { configLike } from "../support/arbitraries.ts";

function apiErrorOf(fn: () => unknown): ApiError | null {
  try {
    fn();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status >= 400 && e.status < 500, `${e.status} ${e.code}`).toBe(true);
    return e;
  }
}

describe("tenant config validation properties", () => {
  it("validate(): the typed config or 400 invalid_request naming a path", () => {
    fc.assert(
      fc.property(fc.oneof(configLike, fc.anything()), (input) => {
        for (const schema of [TenantConfigInputSchema, TenantConfigPatchSchema]) {
          const err = apiErrorOf(() => validate(schema, input, "config"));
          if (err) {
            expect(err.code).toBe("invalid_request");
            expect(Array.isArray(err.details)).toBe(true);
          }
        }
        const parsed = v.safeParse(TenantConfigInputSchema, input);
        if (parsed.success) {
          expect(Array.isArray(crossFieldProblems(parsed.output))).toBe(true);
          expect(Number.isFinite(parsed.output.priceUsd)).toBe(true);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("readJson(): any body text is the typed config or a 4xx with a stable code", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 80 }),
          configLike.map((c) => JSON.stringify(c)),
        ),
        async (text) => {
          const request = new Request("http://localhost/v1/tenants/x", { method: "PATCH", body: text });
          try {
            await readJson(request, TenantConfigPatchSchema, "config");
          } catch (err) {
            expect(err).toBeInstanceOf(ApiError);
            expect(["invalid_json", "invalid_request", "payload_too_large"]).toContain((err as ApiError).code);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("request path properties", () => {
  it("tenantUrl keeps our host and the literal path, or refuses with 400 invalid_path", () => {
    const origin = new URL("http://localhost:8787/t/abc?x=1&y=%00");
    fc.assert(
      fc.property(
        fc.oneof(
          fc.webPath(),
          fc.string({ unit: "binary", maxLength: 40 }).map((s) => `//${s}`),
          fc.string({ maxLength: 30 }),
        ),
        (raw) => {
          // What the dispatcher hands over is always a suffix of a parsed URL's pathname.
          const path =
            new URL(`http://localhost/t/abc${raw.startsWith("/") ? raw : `/${raw}`}`).pathname.slice("/t/abc".length) ||
            "/";
          let url: URL | null = null;
          const err = apiErrorOf(() => (url = tenantUrl(origin, path)));
          if (err) return expect(err.code).toBe("invalid_path");
          expect(url!.host).toBe("localhost:8787");
          expect(url!.pathname).toBe(path);
          expect(url!.search).toBe(origin.search);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("checkTenantBodySize: null, 400 invalid_content_length or 413 payload_too_large, by the declared length", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.nat().map(String),
          fc.string({ maxLength: 12 }),
          fc.constantFrom("", " 5 ", "1e3", "-1", "0x10", "9".repeat(30)),
        ),
        fc.constantFrom("POST", "PUT", "GET", "DELETE"),
        (length, method) => {
          let request: Request;
          try {
            request = new Request("http://localhost/t/x/", { method, headers: { "content-length": length } });
          } catch {
            return; // not a header value the platform could receive
          }
          const err = checkTenantBodySize(request);
          if (err === null) {
            const declared = Number(request.headers.get("content-length"));
            if (method !== "GET" && /^\d+$/.test(request.headers.get("content-length")!.trim()))
              expect(declared).toBeLessThanOrEqual(MAX_TENANT_BODY_BYTES);
            return;
          }
          expect(["invalid_content_length", "payload_too_large"]).toContain(err.code);
          expect(err.status === 400 || err.status === 413).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("proxy upstream header rule", () => {
  it("never passes a rate-limit or usage header under its own name", () => {
    const name = fc.oneof(
      fc.constantFrom(
        "RateLimit",
        "ratelimit-policy",
        "X-RateLimit-Limit",
        "x-rate-limit-reset",
        "X-Usage-Daily-Remaining",
        "Retry-After",
        "content-type",
        "set-cookie",
      ),
      fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/),
    );
    fc.assert(
      fc.property(name, fc.integer({ min: 100, max: 599 }), (header, status) => {
        const out = upstreamHeaderName(header, status);
        if (out === null) return;
        expect(out).not.toMatch(/^(x-)?(ratelimit|rate-limit)(-|$)|^x-usage-/);
        if (out === "retry-after") expect([429, 503]).toContain(status);
      }),
      { numRuns: 1000 },
    );
  });
});
