// The dev creator `claw dev` deploys its demos as (cli/dev/seed.ts), against a real dispatcher:
// a restart on kept state whose .claw/dev.json lost or replaced the key gets a new key for the
// same creator (so redeploying the demos is not refused `slug_taken`, which used to stop
// `npm start` after a bench run had saved its own throwaway creator there), and the benches'
// creator is saved nowhere.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalDispatcher } from "../../cli/local/dispatcher.ts";

const dir = mkdtempSync(join(tmpdir(), "claw-dev-creator-"));
// Read by cli/local/paths.ts when it loads: so every module of the CLI is imported after this line
// (static imports would be hoisted above it).
process.env.CLAW_DEV_STATE_DIR = join(dir, "claw");
const seed = await import("../../cli/dev/seed.ts");
const { startDispatcher } = await import("../../cli/local/dispatcher.ts");
const { ensureDevSecrets } = await import("../../cli/local/dev-vars.ts");
const devFile = join(dir, "claw", "dev.json");

let dispatcher: LocalDispatcher;
let operatorToken: string;
const DEMO = seed.DEMO_TENANTS[0]!;

beforeAll(async () => {
  operatorToken = ensureDevSecrets().OPERATOR_TOKEN;
  dispatcher = await startDispatcher({ persistTo: join(dir, "state") });
}, 180_000);

afterAll(async () => {
  await dispatcher?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function me(key: string): Promise<{ status: number; creatorId: string | undefined }> {
  const res = await fetch(`${dispatcher.url}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as { creator?: { id: string } };
  return { status: res.status, creatorId: body.creator?.id };
}

describe("the dev creator", () => {
  it("is created once, then found again when the saved key is gone or foreign", async () => {
    const first = await seed.ensureDevCreator(dispatcher.url, operatorToken);
    expect(JSON.parse(readFileSync(devFile, "utf8"))).toMatchObject(first);
    await seed.deployDemo(dispatcher.url, first.key, DEMO);

    // The saved key still works: the same creator and key.
    expect(await seed.ensureDevCreator(dispatcher.url, operatorToken)).toEqual(first);

    // A key from another state (what a bench run used to leave here): a new key, same creator.
    writeFileSync(devFile, JSON.stringify({ creatorId: "cr_elsewhere", key: "claw_sk_not_from_this_state" }));
    const again = await seed.ensureDevCreator(dispatcher.url, operatorToken);
    expect(again.creatorId).toBe(first.creatorId);
    expect(again.key).not.toBe(first.key);
    expect(await me(again.key)).toEqual({ status: 200, creatorId: first.creatorId });
    expect(JSON.parse(readFileSync(devFile, "utf8"))).toMatchObject(again);
    // So redeploying the demo is the creator's own redeploy, not a slug taken by somebody else.
    const redeployed = await seed.deployDemo(dispatcher.url, again.key, DEMO);
    expect(redeployed.deployment.version).toBeGreaterThan(1);

    // No file at all: the same.
    rmSync(devFile);
    expect((await seed.ensureDevCreator(dispatcher.url, operatorToken)).creatorId).toBe(first.creatorId);
  }, 120_000);

  it("is left alone by the benches' creator", async () => {
    const before = readFileSync(devFile, "utf8");
    const bench = await seed.createCreator(dispatcher.url, operatorToken, seed.BENCH_CREATOR);
    expect(readFileSync(devFile, "utf8")).toBe(before);
    expect(await me(bench.key)).toEqual({ status: 200, creatorId: bench.creatorId });
    expect(bench.creatorId).not.toBe(JSON.parse(before).creatorId);
    // And the dev creator is still the one found after that.
    rmSync(devFile);
    expect((await seed.ensureDevCreator(dispatcher.url, operatorToken)).creatorId).toBe(JSON.parse(before).creatorId);
  }, 120_000);
});
