// startWranglerDev (cli/local/dispatcher.ts) and a port another process holds: a preferred port
// (what tests and benches pass after freePort(), which can be taken before wrangler binds it) is
// replaced by a fresh one and the returned URL answers; a pinned port (`claw dev --port`) fails,
// but a clash on the inspector's port (ours to pick) never fails a pinned start.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev } from "../../cli/local/dispatcher.ts";
import { REPO_ROOT } from "../../cli/local/paths.ts";
import { freePort, listenOnLoopback, type Listening } from "../../cli/local/ports.ts";

const CONFIG = join(REPO_ROOT, "bench", "lease-worker", "wrangler.jsonc");
let dir: string;
let squatter: Listening;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "claw-port-"));
  squatter = await listenOnLoopback(createServer((_req, res) => res.writeHead(503).end("not wrangler")));
});

afterAll(async () => {
  await squatter.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("wrangler dev on a port that is taken", () => {
  it("moves a preferred port to a free one and answers there", async () => {
    const worker = await startWranglerDev({ config: CONFIG, persistTo: join(dir, "a"), port: squatter.port });
    try {
      expect(worker.port).not.toBe(squatter.port);
      const res = await fetch(`${worker.url}/health`);
      expect(await res.text()).toBe("ok");
    } finally {
      await worker.stop();
    }
  }, 120_000);

  it("fails on a pinned port rather than serving elsewhere", async () => {
    const pinned = { config: CONFIG, persistTo: join(dir, "b"), port: squatter.port, exactPort: true };
    await expect(startWranglerDev(pinned)).rejects.toThrow(/Address already in use/);
  }, 120_000);

  it("keeps a pinned port when the clash is on the inspector's port, and moves only that", async () => {
    const port = await freePort();
    const pinned = { config: CONFIG, persistTo: join(dir, "c"), port, exactPort: true, inspectorPort: squatter.port };
    const worker = await startWranglerDev(pinned);
    try {
      expect(worker.port).toBe(port);
      expect(worker.inspectorPort).not.toBe(squatter.port);
      expect(await (await fetch(`${worker.url}/health`)).text()).toBe("ok");
    } finally {
      await worker.stop();
    }
  }, 120_000);
});
