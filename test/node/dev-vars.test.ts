// .dev.vars is made once with random secrets and reused (cli/local/dev-vars.ts). Processes that
// start on a fresh checkout at the same moment (`npm start` and `npm test`, two test files) must
// all end up with the one set of secrets the file holds: a loser of the race that kept its own
// would talk to a dispatcher started with the other set and be refused as operator.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { ensureDevSecrets, parseDevVars } from "../../cli/local/dev-vars.ts";

const dir = mkdtempSync(join(tmpdir(), "claw-dev-vars-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RACERS = 8;

/** Starts RACERS threads that call ensureDevSecrets(file) at once; resolves with their tokens. */
async function race(file: string): Promise<string[]> {
  const barrier = new SharedArrayBuffer(8);
  const gate = new Int32Array(barrier);
  const racer = new URL("./support/dev-vars-racer.ts", import.meta.url);
  const workers = Array.from({ length: RACERS }, () => new Worker(racer, { workerData: { file, barrier } }));
  const tokens = workers.map(
    (w) =>
      new Promise<string>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      }),
  );
  while (Atomics.load(gate, 1) < RACERS) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  try {
    return await Promise.all(tokens);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe(".dev.vars", () => {
  it("is created once when many start together: every racer gets the secrets the file holds", async () => {
    for (let round = 0; round < 10; round++) {
      const file = join(dir, `round-${round}.vars`);
      const tokens = await race(file);
      const stored = parseDevVars(readFileSync(file, "utf8")).OPERATOR_TOKEN;
      expect(stored).toMatch(/^op_[0-9a-f]{48}$/);
      expect(new Set(tokens)).toEqual(new Set([stored]));
    }
    // No temporary files left behind by the losers.
    expect(readdirSync(dir).filter((f) => !/^round-\d+\.vars$/.test(f))).toEqual([]);
  });

  it("keeps what it holds and adds only what is missing", () => {
    const file = join(dir, "kept.vars");
    const first = ensureDevSecrets({}, file);
    expect(ensureDevSecrets({}, file)).toEqual(first);
    const withExtra = ensureDevSecrets({ EXTRA_VAR: "x" }, file);
    expect(withExtra).toEqual(first);
    expect(parseDevVars(readFileSync(file, "utf8"))).toMatchObject({
      EXTRA_VAR: "x",
      OPERATOR_TOKEN: first.OPERATOR_TOKEN,
    });
  });
});
