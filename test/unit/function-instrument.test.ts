// Deploy-time loop/function instrumentation: what it inserts and what it refuses.
import { describe, expect, it } from "vitest";
import { type CodeError, instrumentFunctionCode, TICK, ticksFor } from "../../src/runtimes/function/instrument.ts";

const count = (s: string) => s.split(`${TICK}()`).length - 1;

describe("instrumentFunctionCode", () => {
  it("ticks every loop body and function body, including non-block bodies", () => {
    const out = instrumentFunctionCode(
      `export default function h() { for (;;) x(); while (a) b(); do c(); while (d); for (const k in o) {} for (const v of l) ; const f = () => 1; const g = async (y) => ({ y }); }`,
    );
    expect(out).toContain(`import { tick as ${TICK} } from "./claw-budget.js";`);
    expect(count(out)).toBe(8); // h, 5 loops, 2 arrows
    expect(out).toContain(`() => (${TICK}(), 1)`);
    expect(out).toContain(`for (;;) {${TICK}();x();}`);
  });

  it("keeps a hashbang first and stays valid for methods, classes and generators", () => {
    const out = instrumentFunctionCode(
      `#!/usr/bin/env node\nclass A { m() { return 1 } get g() { return 2 } *gen() { yield 1 } }\nexport default { fetch() { return new A().m(); } };`,
    );
    expect(out.startsWith("#!/usr/bin/env node\nimport")).toBe(true);
    expect(count(out)).toBe(4);
  });

  it("refuses non-modules, missing default exports and the reserved identifier", () => {
    const codeOf = (src: string) => {
      try {
        instrumentFunctionCode(src);
        return null;
      } catch (err) {
        return (err as CodeError).code;
      }
    };
    expect(codeOf("export default {{")).toBe("invalid_code");
    expect(codeOf("export const a = 1;")).toBe("missing_default_export");
    expect(codeOf("const h = () => 1; export { h as default };")).toBeNull();
    expect(codeOf(`export default () => ${TICK};`)).toBe("reserved_identifier");
  });

  it("derives a positive budget from maxDuration", () => {
    expect(ticksFor(1)).toBeGreaterThan(0);
    expect(ticksFor(200)).toBe(200 * ticksFor(1));
  });
});
