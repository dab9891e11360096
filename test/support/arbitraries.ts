// fast-check arbitraries shared by the property tests of outside input (test/unit, test/worker).
import fc from "fast-check";

// Near-valid configs: right keys with wrong, edge or right values, plus arbitrary junk.
export const edgeNumber = fc.oneof(
  fc.constantFrom(0, -1, 1, 1e300, Number.MAX_SAFE_INTEGER + 2, 0.5, NaN, Infinity),
  fc.double(),
  fc.integer(),
);
export const junk = fc.oneof(
  edgeNumber,
  fc.string({ maxLength: 10 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const rule = fc.record(
  {
    requests: fc.oneof(edgeNumber, junk),
    windowSeconds: fc.oneof(edgeNumber, junk),
    burst: fc.oneof(edgeNumber, junk),
  },
  { requiredKeys: [] },
);
export const configLike = fc.record(
  {
    description: fc.oneof(fc.string({ maxLength: 20 }), junk),
    directory: fc.oneof(fc.constantFrom("geo", "GEO", "-x", "a".repeat(41)), junk),
    priceUsd: fc.oneof(edgeNumber, junk),
    payTo: fc.oneof(fc.constantFrom("0x90F79bf6EB2c4f870365E785982E1f101E93b906", "0x12"), junk),
    network: fc.oneof(fc.constantFrom("eip155:8453", "eip155:", "solana:x"), junk),
    hosts: fc.oneof(fc.array(fc.oneof(fc.domain(), fc.string({ maxLength: 12 })), { maxLength: 12 }), junk),
    plan: fc.oneof(fc.constantFrom("free", "pro", "quarantine", "gold"), junk),
    rateLimit: fc.oneof(fc.record({ perCaller: rule, global: rule }, { requiredKeys: [] }), junk),
    usageLimit: fc.oneof(
      fc.record({ dailyRequests: edgeNumber, monthlyRequests: edgeNumber }, { requiredKeys: [] }),
      junk,
    ),
    spendLimit: fc.oneof(fc.record({ dailyUsd: edgeNumber, perPayerDailyUsd: edgeNumber }, { requiredKeys: [] }), junk),
    resource: fc.oneof(
      fc.record(
        { type: fc.constantFrom("dataset", "function", "x"), format: fc.constantFrom("csv", "xml"), idField: junk },
        { requiredKeys: [] },
      ),
      junk,
    ),
    extra: junk,
  },
  { requiredKeys: [] },
);

/** A deploy's `config.resource` for any kind, near-valid or junk. */
export const resourceLike = fc.oneof(
  fc.record(
    {
      type: fc.constant("function"),
      allowedHosts: fc.oneof(fc.array(fc.oneof(fc.domain(), fc.string({ maxLength: 8 })), { maxLength: 4 }), junk),
      maxDurationMs: fc.oneof(edgeNumber, fc.constantFrom(1, 30_000, 30_001)),
      exposeEnv: fc.oneof(fc.array(fc.constantFrom("API_KEY", "lower", "A".repeat(65)), { maxLength: 3 }), junk),
    },
    { requiredKeys: ["type"] },
  ),
  fc.record(
    {
      type: fc.constant("proxy"),
      upstream: fc.oneof(
        { arbitrary: fc.webUrl(), weight: 3 },
        fc.constantFrom(
          "http://127.0.0.1:1/x",
          "https://169.254.169.254/",
          "https://a.example/?q=1",
          "ftp://x.example/",
        ),
        junk,
      ),
      // Valid values most of the time, so the deeper checks (SSRF guard, https rule) are reached.
      methods: fc.oneof(
        { arbitrary: fc.constant(["GET", "post"]), weight: 3 },
        fc.array(fc.constantFrom("GET", "post", "TRACE", ""), { maxLength: 8 }),
        junk,
      ),
      headers: fc.oneof(
        { arbitrary: fc.constant({ "x-api-key": { secret: "API_KEY" } }), weight: 3 },
        fc.dictionary(
          fc.constantFrom("x-api-key", "bad header", ""),
          fc.record({ secret: fc.constantFrom("API_KEY", "x"), prefix: junk }, { requiredKeys: [] }),
        ),
        junk,
      ),
      cacheTtlSeconds: fc.oneof({ arbitrary: fc.nat(86_400), weight: 3 }, edgeNumber),
      transform: fc.oneof(
        { arbitrary: fc.constant({ pick: ["id"] }), weight: 3 },
        fc.record(
          {
            pick: fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
            rename: fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 })),
          },
          { requiredKeys: [] },
        ),
        junk,
      ),
      allowLoopback: fc.oneof({ arbitrary: fc.boolean(), weight: 3 }, junk),
    },
    { requiredKeys: ["type", "upstream"] },
  ),
  fc.record(
    {
      type: fc.constant("dataset"),
      format: fc.constantFrom("csv", "json", "xml"),
      idField: fc.oneof(fc.constantFrom("id", "city", "nope"), junk),
    },
    { requiredKeys: [] },
  ),
  junk,
);

/** Tenant paths of every shape: web paths, `//` + anything, runs of path-significant characters. */
export const oddPath = fc.oneof(
  fc.webPath(),
  fc.string({ unit: "binary", maxLength: 30 }).map((s) => `//${s}`),
  fc
    .array(
      fc.constantFrom(
        "/",
        "//",
        "%00",
        "%2F",
        "..",
        "%2e",
        ";",
        ":",
        "@",
        "[",
        "]",
        "?",
        "#",
        "\\",
        "v1",
        "records",
        "%",
        "é",
      ),
      { maxLength: 8 },
    )
    .map((p) => `/${p.join("")}`),
);
