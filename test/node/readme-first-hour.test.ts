// A creator's first hour, by the README: `npm start`, then the README's own commands (verbatim,
// with only the port, the payee and file locations filled in) against that fresh stack: deploy a
// paid CSV and pay it with `claw call`, the funnel of N paid calls, wrap a loopback upstream twice,
// publish --dry-run each type, a mistyped flag, `claw call` piped into a JSON parser, the dev key
// wiring and a second `npm start`. State (chain, D1, .claw, config) lives in a temp dir.
import { createServer } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, listenOnLoopback, type Listening } from "../../cli/local/ports.ts";
import { REPO_ROOT } from "../../cli/local/paths.ts";
import { parseDevVars } from "../../cli/local/dev-vars.ts";
import { CSV, eventually } from "./support/paid-env.ts";
import { npmStart, sh, shimDir, type NpmStart } from "./support/readme-stack.ts";

const dir = mkdtempSync(join(tmpdir(), "claw-readme-"));
const work = join(dir, "work");
const devJson = join(dir, "claw", "dev.json");
const configFile = join(dir, "cfg", "config.json");
/** A saved "production" login that must survive the local stack untouched. */
const PRODUCTION = JSON.stringify({ apiUrl: "http://127.0.0.1:1", apiKey: "claw_sk_production" }, null, 2) + "\n";
// Not the demo payer (0x3C44…): a payer paying itself is self-dealing, which the leaderboard never counts.
const PAY_TO = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
const LOCAL_TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

let port: number;
let api: string;
let stack: NpmStart;
let upstream: Listening;
let env: NodeJS.ProcessEnv;

/** The README line that starts with `start` (it must be there), with this run's port and payee. */
function readme(start: string): string {
  const line = README.split("\n").find((l) => l.startsWith(start));
  if (!line) throw new Error(`README has no line starting with: ${start}`);
  return line.replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`).replaceAll("0xYou…", PAY_TO);
}
const run = (line: string, cwd = work) => sh(line, env, cwd);
const operator = () => parseDevVars(readFileSync(join(REPO_ROOT, ".dev.vars"), "utf8")).OPERATOR_TOKEN!;

async function board(slug: string): Promise<{ calls: number; challenges: number } | null> {
  await fetch(`${api}/__platform/rollup`, { method: "POST", headers: { authorization: `Bearer ${operator()}` } });
  const res = await fetch(`${api}/v1/apis/${slug}`);
  if (res.status !== 200) return null;
  return ((await res.json()) as { api: { windows: { today: { metrics: { calls: number; challenges: number } } } } }).api
    .windows.today.metrics;
}

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  mkdirSync(join(dir, "cfg"), { recursive: true });
  writeFileSync(configFile, PRODUCTION, { mode: 0o600 });
  writeFileSync(join(work, "cities.csv"), CSV);
  writeFileSync(join(work, "funnel.csv"), CSV);
  writeFileSync(join(work, "hello.ts"), `export default { fetch: () => Response.json({ hello: "world" }) };\n`);
  const row = "12345,Some City With A Long Name,XX,1234567\n";
  writeFileSync(
    join(work, "big.csv"),
    "id,city,country,population\n" + row.repeat(Math.ceil((2 * 1024 * 1024) / row.length)),
  );
  upstream = await listenOnLoopback(createServer((req, res) => res.end(JSON.stringify({ path: req.url }))));
  port = await freePort();
  api = `http://127.0.0.1:${port}`;
  const {
    CLAW_API_URL: _u,
    CLAW_API_KEY: _k,
    CLAW_LOCAL: _l,
    NO_COLOR: _n,
    npm_lifecycle_event: _e,
    INIT_CWD: _i,
    ...rest
  } = process.env;
  env = {
    ...rest,
    PATH: `${shimDir(dir)}:${process.env.PATH}`,
    CLAW_DEV_STATE_DIR: join(dir, "claw"),
    CLAW_CONFIG_DIR: join(dir, "cfg"),
  };
  stack = await npmStart(["--port", String(port), "--persist-to", join(dir, "state")], env, devJson);
  expect(stack.stderr()).toContain(`402claw is running at ${api}`);
}, 200_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("the README, followed on a fresh `npm start`", () => {
  it("prints a banner within 100 columns, without colour codes off a terminal", () => {
    const banner = stack
      .stderr()
      .split("\n")
      .filter((l) => !l.startsWith(">") && l.trim() !== "");
    expect(banner.join("\n")).toContain(`npm run claw -- call '${api}/t/world-cities-pro/v1/records?country=JP'`);
    for (const line of banner) expect(line.length, line).toBeLessThanOrEqual(100);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserts that no ANSI escape is printed
    expect(stack.stderr()).not.toMatch(/\x1b\[/);
  });

  it("wires the dev key to the CLI here, without a login and without touching the saved one", async () => {
    const who = await run("npm run -s claw -- whoami --json", REPO_ROOT);
    expect(who.code, who.stderr).toBe(0);
    const me = JSON.parse(who.stdout);
    expect(me).toMatchObject({
      apiUrl: api,
      source: { apiUrl: "local", apiKey: "local" },
      creator: { name: "Local Dev Creator" },
    });
    expect(me.keyFrom).toContain(devJson);
    const human = await run("claw whoami");
    expect(human.stderr).toMatch(/from the local stack `npm start` runs .*your saved login is untouched/);
    expect((await run("claw list")).stdout).toContain("world-cities-pro");
    expect(readFileSync(configFile, "utf8")).toBe(PRODUCTION);
  });

  it('runs the commands the banner and the README\'s "Then try" print, as printed', async () => {
    const commandLine = /^[A-Z][A-Za-z ]+: +(npm run claw -- .+?)(?: {3}\(.*\))?$/gm;
    const printed = [...stack.stderr().matchAll(commandLine)].map((m) => m[1]!);
    expect(printed).toEqual([
      `npm run claw -- call '${api}/t/world-cities-pro/v1/records?country=JP'`,
      "npm run claw -- earnings world-cities-pro",
      "npm run claw -- whoami",
    ]);
    for (const line of printed) {
      const result = await run(line, REPO_ROOT);
      expect(result.code, `${line}\n${result.stderr}`).toBe(0);
    }
    const thenTry = await run(readme("npm run claw -- call 'http://127.0.0.1:8787/t/world-cities-pro/"), REPO_ROOT);
    expect(thenTry.code, thenTry.stderr).toBe(0);
    expect(thenTry.stderr).toMatch(/paid \$0\.001, tx 0x[0-9a-f]{64}/);
  });

  it("deploys a paid CSV with the README's flags, in the local token, and `claw call` pays it", async () => {
    const deploy = await run(readme("claw deploy cities.csv --price 0.001"));
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain(`Paid in:   USDC ${LOCAL_TOKEN} on eip155:84532`);
    const tryIt = /Try it: +(claw call '.*')/.exec(deploy.stderr)?.[1];
    expect(tryIt).toBe(`claw call '${api}/t/cities/v1/records?limit=3'`);
    const call = await run(tryIt!);
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout).items).toHaveLength(3);
    expect(call.stderr).toMatch(/paid \$0\.001, tx 0x[0-9a-f]{64}/);
    const show = await run("claw show cities");
    expect(show.stdout).toContain(`payment    eip155:84532, asset USDC v2 ${LOCAL_TOKEN} (6 decimals)`);
    expect(show.stdout).toContain("rate per caller 100/60s");
    const stats = await eventually(
      () => run("claw stats cities"),
      (r) => r.stdout.includes("from 1 payment (ledger)"),
    );
    expect(stats.stdout).toContain("from 1 payment (ledger)");
  });

  it("counts the funnel of N paid calls as N challenges and N settled", async () => {
    expect((await run(`claw deploy funnel.csv --price 0.001 --pay-to ${PAY_TO}`)).code).toBe(0);
    const N = 3;
    // N distinct requests: the funnel counts a challenged request once per (hour, caller, request).
    for (let i = 1; i <= N; i++) expect((await run(`claw call '${api}/t/funnel/v1/records?limit=${i}'`)).code).toBe(0);
    const today = await eventually(
      () => board("funnel"),
      (m) => m?.calls === N,
      30_000,
    );
    expect(today).toMatchObject({ calls: N, challenges: N });
    const stats = await run("claw stats funnel --window today");
    expect(stats.stdout).toContain(`402→paid 100.0% (${N} of ${N} challenges)`);
  });

  it("pipes `claw call` into a JSON parser: the body alone on stdout, or --json", async () => {
    const body = await run(readme("npm run -s claw -- call 'http://127.0.0.1:8787/t/world-cities/"), REPO_ROOT);
    expect(body.code, body.stderr).toBe(0);
    expect(JSON.parse(body.stdout)).toBe("Tokyo");
    const paid = await run(readme("npm run -s claw -- call 'http://127.0.0.1:8787/t/world-cities-pro/"), REPO_ROOT);
    expect(paid.code, paid.stderr).toBe(0);
    expect(JSON.parse(paid.stdout)).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it("exits as documented: bad input 2, price above the cap 2, refused payment 1, unreachable 6", async () => {
    const url = `'${api}/t/cities/v1/records'`;
    const bad = await run(`claw call ${url} --max-price abc`);
    expect([bad.code, bad.stdout]).toEqual([2, ""]);
    expect(bad.stderr).toMatch(/^✖ --max-price must be a non-negative number/m);
    const cap = await run(`claw call ${url} --max-price 0.0001`);
    expect(cap.code).toBe(2);
    expect(cap.stderr).toContain("✖ this call costs $0.001, more than --max-price $0.0001");
    const broke = await run(`claw call ${url} --key 0x${"ab".repeat(32)}`);
    expect(broke.code).toBe(1);
    expect(broke.stderr).toMatch(/✖ the payment was refused: /);
    const away = await run("claw call http://127.0.0.1:1/x");
    expect(away.code).toBe(6);
  });

  it("refuses mistyped flags before doing anything", async () => {
    const before = JSON.parse((await run("claw list --json")).stdout).tenants.length;
    const typo = await run(readme("npm run claw -- deploy cities.csv --prise 0.5"), REPO_ROOT);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("✖ unknown flag --prise for `claw deploy`: did you mean --price?");
    const cap = await run(`claw call '${api}/t/cities/v1/records' --maxprice 0.0001`);
    expect(cap.code).toBe(2);
    expect(cap.stderr).toContain("did you mean --max-price?");
    expect(JSON.parse((await run("claw list --json")).stdout).tenants.length).toBe(before);
    const earned = JSON.parse((await run("claw earnings cities --json")).stdout);
    expect(earned.totals.payments).toBe(1);
  });

  it("wraps a loopback upstream as local-<port>; a second upstream never replaces the first", async () => {
    const name = `local-${upstream.port}`;
    const first = await run(`claw wrap ${upstream.url}/a --allow-loopback`);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`Deployed proxy '${name}' v1`);
    const second = await run(`claw wrap ${upstream.url}/b --allow-loopback`);
    expect(second.code).toBe(5);
    expect(second.stderr).toContain(`✖ '${name}' already exists (a proxy for ${upstream.url}/a); pass --name`);
    const again = await run(`claw wrap ${upstream.url}/a --allow-loopback`);
    expect(again.stderr).toContain(`Deployed proxy '${name}' v2`);
    const through = await fetch(`${api}/t/${name}/x`);
    expect(await through.json()).toEqual({ path: "/a/x" });
  });

  it("publish --dry-run plans each type locally; a proxy is 422 (exit 2)", async () => {
    const dataset = await run("claw publish cities --dry-run --json");
    expect(dataset.code, dataset.stdout).toBe(0);
    expect(JSON.parse(dataset.stdout)).toMatchObject({
      dryRun: true,
      slug: "cities",
      missingSettings: ["CF_ACCOUNT_ID", "CF_DISPATCH_NAMESPACE", "CF_API_TOKEN"],
    });
    expect((await run("claw deploy hello.ts")).code).toBe(0);
    const fn = await run("claw publish hello --dry-run");
    expect(fn.code, fn.stderr).toBe(0);
    expect(JSON.parse(fn.stdout).modules.map((m: { name: string }) => m.name)).toEqual([
      "claw-wrapper.js",
      "claw-budget.js",
      "user.js",
    ]);
    expect(fn.stderr).toContain("CF_ACCOUNT_ID, CF_DISPATCH_NAMESPACE, CF_API_TOKEN not set");
    const proxy = await run(`claw publish local-${upstream.port} --dry-run`);
    expect(proxy.code).toBe(2);
    expect(proxy.stderr).toContain("publish_unsupported");
  });

  it("shows progress for a long upload, and the login hint does not say to log in again", async () => {
    const big = await run("claw deploy big.csv");
    expect(big.code, big.stderr).toBe(0);
    expect(big.stderr).toMatch(/uploaded \d+\.\d \/ \d+\.\d MiB \(\d+%\)\n[\s\S]*\(100%\)/);
    const login = await run(`claw login --key claw_sk_not_a_real_key --api-url ${api}`);
    expect(login.code).toBe(3);
    expect(login.stderr).toContain("did not accept this key");
    expect(login.stderr).not.toContain("run `claw login` again");
    expect(readFileSync(configFile, "utf8")).toBe(PRODUCTION);
  });

  it("a second `npm start` names the running stack and exits 5; stopping leaves no pointer to it", async () => {
    const second = await npmStart(
      ["--port", String(await freePort()), "--persist-to", join(dir, "state2")],
      env,
      join(dir, "none.json"),
    );
    expect(await second.exited).toBe(5);
    expect(second.stderr()).toContain(`✖ 402claw is already running at ${api}, pid `);
    await stack.stop();
    const state = JSON.parse(readFileSync(devJson, "utf8"));
    expect(state.apiUrl).toBeUndefined();
    expect(state.pid).toBeUndefined();
    expect(state.key).toMatch(/^claw_sk_/);
    const who = await run("claw whoami");
    expect(who.code).toBe(6);
    expect(who.stderr).toContain("cannot reach http://127.0.0.1:1");
    expect(existsSync(configFile)).toBe(true);
  });
});
