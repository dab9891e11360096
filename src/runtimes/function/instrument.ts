// Deploy-time instrumentation of a function bundle (server-side, so a creator cannot skip it).
// Local workerd does not enforce cpuMs on loaded isolates and its clocks stand still during pure
// CPU work, so a busy loop would freeze everything. Every loop body and every function body gets a
// cheap `__claw_tick()` call; the wrapper gives each request an iteration budget derived from
// maxDurationMs and the tick throws once it is spent (and keeps throwing, so a `catch` that loops
// or recurses is ended too). Production Workers for Platforms also enforces cpuMs: this is
// defence in depth there. `eval`/`new Function` are unavailable in Workers, so no code escapes it.
import { parse, type Node } from "acorn";
import { simple } from "acorn-walk";
import MagicString from "magic-string";

export const TICK = "__claw_tick";
export const BUDGET_MODULE = "claw-budget.js";
export const USER_MODULE = "user.js";

/** Loop iterations (ticks) allowed per millisecond of maxDuration. Measured: an instrumented empty
 * loop runs ~280k ticks/ms on the dev machine (Node 24/V8), so a tight loop ends well within
 * maxDuration even on CPUs ~3x slower; real loop bodies do more per tick and so get more time. */
export const TICKS_PER_MS = 100_000;

export class CodeError extends Error {
  constructor(
    readonly code: "invalid_code" | "missing_default_export" | "reserved_identifier",
    message: string,
  ) {
    super(message);
  }
}

interface Ranged {
  start: number;
  end: number;
  type: string;
}

/** Returns the instrumented module text, or throws CodeError (not a valid ES module, no default export). */
export function instrumentFunctionCode(source: string): string {
  let ast: Node;
  try {
    ast = parse(source, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
  } catch (err) {
    throw new CodeError("invalid_code", `the code is not a valid ES module: ${(err as Error).message}`);
  }
  if (!hasDefaultExport(ast)) {
    throw new CodeError(
      "missing_default_export",
      "the code has no default export: export a handler function or an object with fetch()",
    );
  }
  if (source.includes(TICK))
    throw new CodeError("reserved_identifier", `the identifier ${TICK} is reserved by the platform`);
  const s = new MagicString(source);
  const tickBlock = (body: Ranged) => {
    if (body.type === "BlockStatement") s.appendLeft(body.start + 1, `${TICK}();`);
    else {
      s.prependLeft(body.start, `{${TICK}();`);
      s.appendRight(body.end, "}");
    }
  };
  const loop = (node: Node) => tickBlock((node as unknown as { body: Ranged }).body);
  const fn = (node: Node) => {
    const body = (node as unknown as { body: Ranged }).body;
    if (body.type === "BlockStatement") s.appendLeft(body.start + 1, `${TICK}();`);
    else {
      // Expression-bodied arrow: `x => expr` becomes `x => (__claw_tick(), expr)`.
      s.prependLeft(body.start, `(${TICK}(), `);
      s.appendRight(body.end, ")");
    }
  };
  simple(ast, {
    WhileStatement: loop,
    DoWhileStatement: loop,
    ForStatement: loop,
    ForInStatement: loop,
    ForOfStatement: loop,
    FunctionDeclaration: fn,
    FunctionExpression: fn,
    ArrowFunctionExpression: fn,
  });
  // Imports are hoisted, so this line's position does not matter; after a hashbang it must follow line 1.
  const header = `import { tick as ${TICK} } from "./${BUDGET_MODULE}";\n`;
  if (source.startsWith("#!")) {
    const eol = source.indexOf("\n");
    s.appendLeft(eol === -1 ? source.length : eol + 1, header);
  } else s.prepend(header);
  return s.toString();
}

function hasDefaultExport(ast: Node): boolean {
  for (const node of (ast as unknown as { body: Array<Node & Record<string, unknown>> }).body) {
    if (node.type === "ExportDefaultDeclaration") return true;
    if (node.type === "ExportNamedDeclaration") {
      const specifiers =
        (node.specifiers as Array<{ exported: { type: string; name?: string; value?: string } }>) ?? [];
      if (specifiers.some((sp) => (sp.exported.name ?? sp.exported.value) === "default")) return true;
    }
  }
  return false;
}

/** The budget module shared by the wrapper and the instrumented user module. */
export const BUDGET_SOURCE = `
let used = 0, budget = Infinity, spent = false;
export class BudgetExceeded extends Error {}
export function reset(limit) { used = 0; budget = limit; spent = false; }
export function tick() {
  if (spent || ++used > budget) { spent = true; throw new BudgetExceeded("maxDuration exceeded"); }
}
export function exceeded() { return spent; }
`;

/** Our entry module: runs the user's default export, turns non-Response values into JSON. */
export function wrapperSource(ticks: number): string {
  return `
import * as user from "./${USER_MODULE}";
import { reset, exceeded } from "./${BUDGET_MODULE}";
const handler = user.default;
export default {
  async fetch(request, env, ctx) {
    reset(${ticks});
    let out;
    try {
      if (typeof handler === "function") out = await handler(request, env, ctx);
      else if (handler && typeof handler.fetch === "function") out = await handler.fetch(request, env, ctx);
      else return new Response("no handler", { status: 500, headers: { "x-claw-failure": "no_handler" } });
    } catch (err) {
      if (exceeded()) return new Response("timeout", { status: 504, headers: { "x-claw-failure": "tenant_timeout" } });
      console.error("function threw", err);
      return new Response("failure", { status: 502, headers: { "x-claw-failure": "tenant_worker_failure" } });
    }
    if (exceeded()) return new Response("timeout", { status: 504, headers: { "x-claw-failure": "tenant_timeout" } });
    if (out instanceof Response) {
      if (!out.headers.has("x-claw-failure")) return out;
      const copy = new Response(out.body, out);
      copy.headers.delete("x-claw-failure");
      return copy;
    }
    let body;
    try { body = JSON.stringify(out === undefined ? null : out); } catch {
      return new Response("failure", { status: 502, headers: { "x-claw-failure": "tenant_worker_failure" } });
    }
    return new Response(body, { headers: { "content-type": "application/json; charset=utf-8" } });
  },
};
`;
}

export function ticksFor(maxDurationMs: number): number {
  return Math.max(1, Math.round(maxDurationMs * TICKS_PER_MS));
}
