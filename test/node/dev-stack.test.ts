// `npm start` / `claw dev` end to end: the real CLI starts wrangler dev on 127.0.0.1, seeds the
// demo tenant and a dev creator, and the printed URLs answer. State lives in a temp dir.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../cli/local/ports.ts";
import { REPO_ROOT } from "../../cli/local/paths.ts";

let child: ChildProcess;
let summary: { apiUrl: string; creatorKey: string; demos: { slug: string; url: string; rows: number }[] };
const stateDir = mkdtempSync(join(tmpdir(), "claw-dev-test-"));

beforeAll(async () => {
  const port = await freePort();
  child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "cli", "bin.mjs"),
      "dev",
      "--json",
      "--no-demo-traffic",
      "--port",
      String(port),
      "--persist-to",
      join(stateDir, "state"),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, CLAW_DEV_STATE_DIR: join(stateDir, "claw") },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  summary = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`claw dev did not get ready:\n${out}\n${err}`)), 180_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once("exit", (code) => reject(new Error(`claw dev exited (${code}):\n${out}\n${err}`)));
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(stateDir, { recursive: true, force: true });
});

describe("claw dev", () => {
  it("serves the demo dataset through the metered dispatcher on 127.0.0.1", async () => {
    expect(summary.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const demo = summary.demos.find((d) => d.slug === "world-cities")!;
    expect(demo.rows).toBe(50);
    const res = await fetch(`${demo.url}v1/records?country=JP&sort=-population&limit=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    const body = (await res.json()) as any;
    expect(body.items.map((r: any) => r.city)).toEqual(["Tokyo", "Osaka"]);
  });

  it("prints a working dev creator key", async () => {
    const res = await fetch(`${summary.apiUrl}/v1/tenants`, {
      headers: { authorization: `Bearer ${summary.creatorKey}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).tenants.map((t: any) => t.slug)).toContain("world-cities");
  });

  it("offers a paid demo that `claw call` pays with @x402/fetch, printing the transaction", async () => {
    const paid = summary.demos.find((d) => d.slug === "world-cities-pro")!;
    const url = `${paid.url}v1/records?country=JP&limit=1`;
    expect((await fetch(url)).status).toBe(402);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, "cli", "bin.mjs"), "call", url, "--json"],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CLAW_DEV_STATE_DIR: join(stateDir, "claw") },
      },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(result.status).toBe(200);
    expect(result.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.paid).toMatchObject({ amountAtomic: "1000" });
    expect(result.body.items[0].city).toBe("Tokyo");
  });

  it("refuses to pay more than --max-price", async () => {
    const paid = summary.demos.find((d) => d.slug === "world-cities-pro")!;
    const run = promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, "cli", "bin.mjs"), "call", `${paid.url}v1/records`, "--max-price", "0.0001"],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CLAW_DEV_STATE_DIR: join(stateDir, "claw") },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 2 });
  });
});
