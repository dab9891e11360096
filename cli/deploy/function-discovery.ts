// The discovery part of a function's `export const config` (README "Discovery"): `input` and
// `output` JSON Schemas (one `POST /` operation; `inputExample` / `outputExample` optional), or
// a full `operations` list. Sent as `resource.input` / `resource.output` / `resource.operations`;
// the platform checks them as JSON Schema (400 invalid_json_schema / invalid_example), so this
// only checks the shape, and a typo in the key names is caught here.
import { usageError } from "../core/errors.ts";

export interface FunctionDiscovery {
  input?: unknown;
  output?: unknown;
  operations?: unknown[];
}

const isSchema = (x: unknown) => typeof x === "boolean" || (x !== null && typeof x === "object" && !Array.isArray(x));

export function functionDiscovery(c: Record<string, unknown>): FunctionDiscovery {
  for (const key of ["input", "output"] as const) {
    if (c[key] !== undefined && !isSchema(c[key])) {
      throw usageError(`config.${key} must be a JSON Schema (an object or a boolean)`, "invalid_function_config");
    }
  }
  if (c.operations !== undefined) {
    if (!Array.isArray(c.operations)) {
      const what = "config.operations must be an array of {method, path, input?, output?, …}";
      throw usageError(what, "invalid_function_config");
    }
    if (c.input !== undefined || c.output !== undefined) {
      const what = "config: declare either input/output (one POST / operation) or operations, not both";
      throw usageError(what, "invalid_function_config");
    }
    return { operations: c.operations };
  }
  const hasExample = c.inputExample !== undefined || c.outputExample !== undefined;
  if (hasExample) {
    // Examples belong to an operation: the shorthand becomes the one POST / operation it stands for.
    const op: Record<string, unknown> = { method: "POST", path: "/" };
    for (const key of ["input", "output", "inputExample", "outputExample"]) if (c[key] !== undefined) op[key] = c[key];
    return { operations: [op] };
  }
  return {
    ...(c.input !== undefined ? { input: c.input } : {}),
    ...(c.output !== undefined ? { output: c.output } : {}),
  };
}
