// What discovery will see of an API (GET /v1/tenants/:slug/discovery), printed as a short
// checklist by `claw deploy`, `claw wrap` and `claw show` (README "Discovery"). A platform without
// the route (older) or a key without tenants:read gives no checklist rather than a failed command:
// the deploy itself has already succeeded.
import type { PlatformApi } from "../api/platform.ts";
import type { DiscoveryReadiness } from "../api/types.ts";
import { CliError } from "../core/errors.ts";

const LABEL: Record<string, string> = {
  input_schema: "input schema",
  output_schema: "output schema",
  examples_valid: "examples",
  description: "description",
  price: "price",
  pay_to: "payTo",
  bazaar: "bazaar listing",
};

export async function fetchReadiness(api: PlatformApi, slug: string): Promise<DiscoveryReadiness | null> {
  try {
    return await api.discovery(slug);
  } catch (err) {
    const absent = ["route_not_found", "insufficient_scope", "http_404"];
    if (err instanceof CliError && absent.includes(err.code)) return null;
    throw err;
  }
}

/** Pure: the checklist as text, one line per check (`✔`/`✖`), then where the OpenAPI document is. */
export function readinessText(r: DiscoveryReadiness): string {
  const width = Math.max(...r.checks.map((c) => (LABEL[c.id] ?? c.id).length));
  const lines = r.checks.map((c) => `    ${c.ok ? "✔" : "✖"} ${(LABEL[c.id] ?? c.id).padEnd(width)}  ${c.message}`);
  const head = r.ready ? "ready: agents and directories can find and call it" : "not ready for discovery yet";
  return [`  discovery  ${head}`, ...lines, `    openapi  ${r.documents.openapi}`].join("\n");
}
