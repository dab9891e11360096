// How the platform origin's /openapi.json grows with tenants (docs/ARCHITECTURE.md §11): it must
// carry every paid path-mode operation, so it is measured at 1,000 paid tenants (8-column
// datasets, with a function and a proxy mix) with the real builders: describe + render +
// serialise, what the handler does once per catalog version. Prints the figures; asserts only
// that size grows linearly.
import { describe, expect, it } from "vitest";

const load = (path: string): Promise<any> => import(path);
const { parseDataset } = await load("../../src/runtimes/dataset/parse.ts");
const { describeTenant } = await load("../../src/discovery/describe.ts");
const { exampleRecord } = await load("../../src/discovery/declarations.ts");
const { platformOpenApi, paidResources, wellKnownX402 } = await load("../../src/discovery/platform-docs.ts");
const { OPENAPI } = await load("../../src/public/openapi.ts");

const CSV =
  "id,name,country,population,area,capital,founded,note\n" +
  Array.from(
    { length: 20 },
    (_, i) => `${i + 1},City ${i},C${i % 9},${1000 * i},${i * 1.5},${i % 2 === 0},${1800 + i},note ${i}`,
  ).join("\n");
const ds = parseDataset(CSV, "csv");

function tenant(i: number): any {
  const slug = `api-${String(i).padStart(4, "0")}`;
  const base = {
    slug,
    owner: "c",
    version: 1,
    description: `API number ${i}`,
    directory: "general",
    priceUsd: 0.001,
    payTo: "0x1111111111111111111111111111111111111111",
    network: "eip155:84532",
    hosts: [],
    plan: "free",
    rateLimit: {},
    usageLimit: {},
    spendLimit: {},
    secretNames: [],
    createdAt: 1,
    updatedAt: 1,
  };
  if (i % 10 === 9) {
    const op = {
      method: "POST",
      path: "/run",
      input: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
      output: { type: "object" },
    };
    return {
      ...base,
      resourceType: "function",
      resource: {
        type: "function",
        allowedHosts: [],
        maxDurationMs: 1000,
        exposeEnv: [],
        bytes: 1,
        sha256: "0".repeat(64),
        codeKey: "k",
        operations: [op],
      },
    };
  }
  return {
    ...base,
    resourceType: "dataset",
    resource: {
      type: "dataset",
      format: "csv",
      idField: "id",
      rows: 20,
      bytes: CSV.length,
      dataKey: "d",
      codeKey: "c",
      fields: ds.schema.fields,
      example: exampleRecord(ds.schema.fields, ds.rows[0]),
    },
  };
}

function build(n: number): { bytes: number; ms: number; operations: number; wellKnownBytes: number } {
  const configs = Array.from({ length: n }, (_, i) => tenant(i));
  const started = performance.now();
  const descriptions = configs.map((c) => describeTenant(c, { name: "Creator" }));
  const text = JSON.stringify(platformOpenApi(OPENAPI, descriptions));
  const ms = performance.now() - started;
  const wk = JSON.stringify(
    wellKnownX402(descriptions.flatMap((d: any) => paidResources(d, `https://claw.example/t/${d.slug}`))),
  );
  return {
    bytes: new TextEncoder().encode(text).byteLength,
    ms,
    operations: descriptions.reduce((s: number, d: any) => s + d.operations.length, 0),
    wellKnownBytes: wk.length,
  };
}

describe("platform /openapi.json at scale", () => {
  it("1,000 paid tenants: size and build time", async () => {
    build(50); // warm up the JIT so the figure is the steady rebuild cost
    const small = build(100);
    const large = build(1000);
    const gzip = new Response(
      new Blob([
        JSON.stringify(
          platformOpenApi(
            OPENAPI,
            Array.from({ length: 1000 }, (_, i) => describeTenant(tenant(i))),
          ),
        ),
      ])
        .stream()
        .pipeThrough(new CompressionStream("gzip")),
    );
    const gzBytes = (await gzip.arrayBuffer()).byteLength;
    console.log(
      `discovery scale: 100 tenants ${(small.bytes / 1024).toFixed(0)} KiB in ${small.ms.toFixed(0)} ms; ` +
        `1000 tenants ${large.operations} operations, ${(large.bytes / 1048576).toFixed(2)} MiB ` +
        `(${(gzBytes / 1024).toFixed(0)} KiB gzip) ` +
        `in ${large.ms.toFixed(0)} ms; /.well-known/x402 ${(large.wellKnownBytes / 1024).toFixed(0)} KiB`,
    );
    // Linear growth (no per-tenant blow-up). Build time is printed, never asserted (ARCHITECTURE §10).
    expect(large.bytes / small.bytes).toBeGreaterThan(8);
    expect(large.bytes / small.bytes).toBeLessThan(12);
    expect(large.bytes / 1000).toBeLessThan(16 * 1024);
  });
});
