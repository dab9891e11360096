// What discovery will see of an API, as a short checklist for its creator (docs/ARCHITECTURE.md
// §11): schema present, examples valid against their schemas, description length, price, payTo,
// and a bazaar listing per operation. Pure: `GET /v1/tenants/:slug/discovery` returns it and
// `claw deploy` / `claw show` can print it.
import { bazaarExtensionFor } from "./bazaar.ts";
import type { ApiDescription } from "./description-types.ts";
import { instanceProblems } from "./json-schema.ts";
import { priceSentence, pricedPerOperation } from "./openapi.ts";
import { concretePath } from "./platform-docs.ts";

export interface Check {
  id: "input_schema" | "output_schema" | "examples_valid" | "description" | "price" | "pay_to" | "bazaar";
  ok: boolean;
  message: string;
}

export const DESCRIPTION_MIN_CHARS = 20;

function exampleProblems(d: ApiDescription): string[] {
  const out: string[] = [];
  for (const op of d.operations) {
    const at = `${op.method} ${op.path}`;
    if (op.output.example !== undefined)
      out.push(...instanceProblems(op.output.schema, op.output.example).map((p) => `${at} response ${p}`));
    if (op.body?.example !== undefined)
      out.push(...instanceProblems(op.body.schema, op.body.example).map((p) => `${at} body ${p}`));
  }
  return out;
}

/** `description` is the creator's own text (the description falls back to a generated one). */
export function readiness(d: ApiDescription, description: string): { ready: boolean; checks: Check[] } {
  const undeclared = d.operations.filter((op) => !op.declared).map((op) => `${op.method} ${op.path}`);
  const noOutput = d.operations.filter(
    (op) => typeof op.output.schema === "object" && Object.keys(op.output.schema).length === 0,
  );
  const withoutExample = d.operations.filter((op) => op.output.example === undefined).length;
  const problems = exampleProblems(d);
  const unlisted = d.operations
    .filter((op) => op.declared && !bazaarExtensionFor(d, op.method, concretePath(op)))
    .map((op) => `${op.method} ${op.path}`);
  const length = description.trim().length;
  const checks: Check[] = [
    {
      id: "input_schema",
      ok: undeclared.length === 0,
      message:
        undeclared.length === 0
          ? `${d.operations.length} operation(s) with an input schema`
          : `no input schema for ${undeclared.join(", ")}: crawlers skip it; ` +
            "declare resource.input or resource.operations",
    },
    {
      id: "output_schema",
      ok: noOutput.length === 0,
      message:
        noOutput.length === 0
          ? "every operation declares its response schema"
          : `${noOutput.length} operation(s) without a response schema`,
    },
    {
      id: "examples_valid",
      ok: problems.length === 0,
      message:
        problems.length === 0
          ? `examples valid${withoutExample ? ` (${withoutExample} operation(s) without one)` : ""}`
          : problems.slice(0, 3).join("; "),
    },
    {
      id: "description",
      ok: length >= DESCRIPTION_MIN_CHARS,
      message:
        length >= DESCRIPTION_MIN_CHARS
          ? `${length} characters`
          : `only ${length} characters: directories show it as the API's summary; ` +
            `write at least ${DESCRIPTION_MIN_CHARS}`,
    },
    {
      id: "price",
      ok: d.payment !== null,
      message: d.payment
        ? pricedPerOperation(d)
          ? priceSentence(d)
          : `${d.payment.display} per call (USD ${d.payment.amountUsd})`
        : "free: free APIs are not x402 resources and are not listed by Bazaar or x402scan",
    },
    {
      id: "pay_to",
      ok: d.payment !== null,
      message: d.payment ? `paid to ${d.payment.payTo} on ${d.payment.network}` : "no payTo: set priceUsd and payTo",
    },
    {
      id: "bazaar",
      ok: d.payment !== null && unlisted.length === 0 && undeclared.length < d.operations.length,
      message: unlisted.length
        ? `no bazaar listing for ${unlisted.join(", ")}`
        : d.payment
          ? "every described operation's 402 carries a bazaar listing"
          : "no 402, so no bazaar listing",
    },
  ];
  return { ready: checks.every((c) => c.ok), checks };
}
