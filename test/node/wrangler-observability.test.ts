// The local stack starts `wrangler dev` without wrangler's local trace collector
// (cli/local/dispatcher.ts, docs/ARCHITECTURE.md §10): with it, a streaming tail Worker in the same
// workerd process stores every span, under <persist>/v3/observability. Asked for explicitly
// (X_LOCAL_OBSERVABILITY=true), the collector is there, so the check below can see it.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev } from "../../cli/local/dispatcher.ts";
import { REPO_ROOT } from "../../cli/local/paths.ts";

const CONFIG = join(REPO_ROOT, "bench", "lease-worker", "wrangler.jsonc");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "claw-observability-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the worker, makes a few calls, stops it; what the state directory holds then. */
async function stateAfterCalls(persistTo: string, env?: Record<string, string>): Promise<string[]> {
  const worker = await startWranglerDev({ config: CONFIG, persistTo, ...(env ? { env } : {}) });
  try {
    for (let i = 0; i < 3; i++) expect(await (await fetch(`${worker.url}/health`)).text()).toBe("ok");
  } finally {
    await worker.stop();
  }
  return existsSync(join(persistTo, "v3")) ? readdirSync(join(persistTo, "v3")) : [];
}

describe("wrangler dev's local trace collector", () => {
  it("is off in the local stack by default", async () => {
    expect(await stateAfterCalls(join(dir, "default"))).not.toContain("observability");
  }, 120_000);

  it("is on when X_LOCAL_OBSERVABILITY=true asks for it", async () => {
    expect(await stateAfterCalls(join(dir, "on"), { X_LOCAL_OBSERVABILITY: "true" })).toContain("observability");
  }, 120_000);
});
