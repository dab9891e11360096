// The real `claw` binary against the real local stack (anvil + facilitator + wrangler dev):
// login, deploy a CSV, a TypeScript function and a proxy around a local upstream, pay for a call
// to each with `claw call`, watch stats and earnings move, remove. Bad input: one clear line,
// a meaningful non-zero exit, and nothing deployed.
import { createServer } from "node:http";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback, type Listening } from "../../cli/local/ports.ts";
import { CSV, eventually, startPaidEnv, type PaidEnv } from "./support/paid-env.ts";
import { claw } from "./support/claw-cli.ts";

let env: PaidEnv;
let upstream: Listening;
const dir = mkdtempSync(join(tmpdir(), "claw-cli-e2e-"));
const cfg = join(dir, "cfg");
const suffix = String(process.pid);

const base = () => ({ CLAW_CONFIG_DIR: cfg });
/** Authorization headers as the upstream received them (its echo is redacted by the proxy). */
const upstreamSawAuth: (string | null)[] = [];
const pay = () => [
  "--price",
  "0.001",
  "--pay-to",
  env.stack.payments.accounts.payTo.address,
  "--network",
  env.stack.payments.network,
  "--asset",
  JSON.stringify(env.stack.payments.asset),
];
const payer = () => ["--key", env.stack.payments.accounts.payer.privateKey];

beforeAll(async () => {
  env = await startPaidEnv();
  upstream = await listenOnLoopback(
    createServer((req, res) => {
      upstreamSawAuth.push(req.headers.authorization ?? null);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null, secretValue: "hidden" }));
    }),
  );
  writeFileSync(join(dir, "cities.csv"), CSV);
  writeFileSync(
    join(dir, "hello.ts"),
    `interface Greeting { hello: string }\nexport const config = { maxDuration: "5s" };\nexport default { async fetch(req: Request): Promise<Response> { const g: Greeting = { hello: new URL(req.url).searchParams.get("name") ?? "world" }; return Response.json(g); } };\n`,
  );
});

afterAll(async () => {
  await upstream?.stop();
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("claw CLI end to end", () => {
  it("login stores the API URL and key with mode 0600 and whoami reads them", async () => {
    const login = await claw(["login", "--key", env.creatorKey, "--api-url", env.stack.apiUrl, "--json"], base());
    expect(login.code, login.stderr).toBe(0);
    expect(login.json.creator.name).toBe("paid e2e");
    const file = join(cfg, "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const who = await claw(["whoami", "--json"], base());
    expect(who.code).toBe(0);
    expect(who.json.source).toEqual({ apiUrl: "config", apiKey: "config" });
  });

  it("deploys a CSV, pays for a call, sees stats and earnings move, removes it", async () => {
    const slug = `cli-cities-${suffix}`;
    const deploy = await claw(
      [
        "deploy",
        join(dir, "cities.csv"),
        "--name",
        slug,
        ...pay(),
        "--rate-limit-caller",
        "100/60s",
        "--rate-limit-global",
        "10000/1h",
        "--quota-day",
        "1000",
        "--spend-per-payer-day",
        "1",
        "--directory",
        "geo",
        "--description",
        "CLI cities",
        "--json",
      ],
      base(),
    );
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
    expect(deploy.json).toMatchObject({
      slug,
      kind: "dataset",
      version: 1,
      endpoint: `${env.stack.apiUrl}/t/${slug}/`,
      price: { usd: 0.001, atomic: "1000" },
    });
    expect(deploy.json.call).toBe(`claw call '${env.stack.apiUrl}/t/${slug}/v1/records?limit=3'`);

    const show = await claw(["show", slug, "--json"], base());
    expect(show.json.tenant).toMatchObject({
      rateLimit: { perCaller: { requests: 100, windowSeconds: 60 }, global: { requests: 10000, windowSeconds: 3600 } },
      usageLimit: { dailyRequests: 1000 },
      spendLimit: { perPayerDailyUsd: 1 },
      directory: "geo",
    });

    const call = await claw(
      ["call", `${env.stack.apiUrl}/t/${slug}/v1/records?country=FR`, ...payer(), "--json"],
      base(),
    );
    expect(call.code, call.stderr).toBe(0);
    expect(call.json.status).toBe(200);
    expect(call.json.transaction).toMatch(/^0x[0-9a-f]{64}$/);

    const earnings = await eventually(
      () => claw(["earnings", slug, "--json"], base()),
      (r) => r.json?.totals?.payments === 1,
    );
    expect(earnings.json.totals).toMatchObject({ payments: 1, amountAtomic: "1000" });
    const stats = await eventually(
      () => claw(["stats", slug, "--json"], base()),
      (r) => (r.json?.meter?.total?.calls ?? 0) >= 1,
    );
    expect(stats.code).toBe(0);
    expect(stats.json.meter.total.calls).toBeGreaterThanOrEqual(1);
    expect(stats.json.revenue.amountAtomic).toBe("1000");

    const list = await claw(["list", "--json"], base());
    expect(list.json.tenants.map((t: any) => t.slug)).toContain(slug);
    const rm = await claw(["rm", slug, "--json"], base());
    expect(rm.code).toBe(0);
    const gone = await claw(["show", slug, "--json"], base());
    expect(gone.code).toBe(4);
    expect(gone.json.error.code).toBe("tenant_not_found");
  });

  it("deploys a TypeScript function and pays for a call", async () => {
    const slug = `cli-hello-${suffix}`;
    const deploy = await claw(["deploy", join(dir, "hello.ts"), "--name", slug, ...pay(), "--json"], base());
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
    expect(deploy.json).toMatchObject({ slug, kind: "function" });
    const call = await claw(["call", `${env.stack.apiUrl}/t/${slug}/?name=claw`, ...payer(), "--json"], base());
    expect(call.code, call.stderr + call.stdout).toBe(0);
    expect(call.json.body).toEqual({ hello: "claw" });
    expect(call.json.transaction).toMatch(/^0x/);
    const earnings = await eventually(
      () => claw(["earnings", slug, "--json"], base()),
      (r) => r.json?.totals?.payments === 1,
    );
    expect(earnings.json.totals.payments).toBe(1);
    expect((await claw(["rm", slug], base())).code).toBe(0);
  });

  const proxySlug = `cli-proxy-${suffix}`;
  it("wraps a local upstream with a secret header (secret names shown, never values)", async () => {
    const slug = proxySlug;
    const wrap = await claw(
      [
        "wrap",
        `${upstream.url}/api`,
        "--name",
        slug,
        ...pay(),
        "--secret-header",
        "Authorization=Bearer UPSTREAM_KEY",
        "--allow-loopback",
        "--json",
      ],
      { ...base(), UPSTREAM_KEY: "up-123" },
    );
    expect(wrap.code, wrap.stderr + wrap.stdout).toBe(0);
    expect(wrap.json.kind).toBe("proxy");
    const show = await claw(["show", slug, "--json"], base());
    expect(show.json.tenant.secretNames).toEqual(["UPSTREAM_KEY"]);
    expect(show.stdout).not.toContain("up-123");
  });

  it("pays for a call through the proxy, the secret header injected upstream", async () => {
    const slug = proxySlug;
    const call = await claw(["call", `${env.stack.apiUrl}/t/${slug}/items?x=1`, ...payer(), "--json"], base());
    expect(call.code, call.stderr + call.stdout).toBe(0);
    expect(upstreamSawAuth.at(-1)).toBe("Bearer up-123");
    // The upstream echoed the secret; the proxy must not pass it on to the caller.
    expect(call.json.body).toMatchObject({ path: "/api/items?x=1", auth: "Bearer [redacted]" });
    expect(call.stdout).not.toContain("up-123");
    expect((await claw(["rm", slug], base())).code).toBe(0);
  });

  it("bad input: one clear line, a meaningful exit code, nothing deployed", async () => {
    writeFileSync(join(dir, "notes.txt"), "hello");
    writeFileSync(join(dir, "locked.csv"), CSV);
    chmodSync(join(dir, "locked.csv"), 0o000);
    const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
      [["deploy", join(dir, "notes.txt"), "--name", "bad-one"], base(), 2, /unknown file type '\.txt'/],
      [
        ["deploy", join(dir, "missing.csv"), "--name", "bad-two"],
        base(),
        2,
        /cannot read .*missing\.csv: no such file/,
      ],
      [
        ["deploy", join(dir, "cities.csv"), "--name", "bad-three", "--rate-limit-caller", "100 per minute"],
        base(),
        2,
        /--rate-limit-caller must look like 100\/60s/,
      ],
      [
        ["deploy", join(dir, "cities.csv"), "--name", "bad-four", "--price", "-0.5"],
        base(),
        2,
        /--price cannot be negative/,
      ],
      [
        ["deploy", join(dir, "cities.csv"), "--name", "bad-five"],
        { CLAW_CONFIG_DIR: join(dir, "empty-cfg"), CLAW_API_URL: env.stack.apiUrl },
        3,
        /no API key: run `claw login/,
      ],
      [
        ["deploy", join(dir, "hello.ts"), "--name", "bad-six", "--secret", "NOT_SET_ANYWHERE"],
        base(),
        2,
        /\$NOT_SET_ANYWHERE is not set/,
      ],
      [["deploy", join(dir, "cities.csv"), "--name", "bad-seven", "--price", "0.01"], base(), 2, /payTo is required/],
    ];
    if (process.getuid?.() !== 0)
      cases.push([
        ["deploy", join(dir, "locked.csv"), "--name", "bad-eight"],
        base(),
        2,
        /cannot read .*locked\.csv: permission denied/,
      ]);
    for (const [args, extra, code, message] of cases) {
      const r = await claw(args, extra);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(code);
      const lines = r.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("✖"));
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      const json = await claw([...args, "--json"], extra);
      expect(json.code).toBe(code);
      expect(json.json.error.exitCode).toBe(code);
    }
    const list = await claw(["list", "--json"], base());
    expect(list.json.tenants.map((t: any) => t.slug).filter((s: string) => s.startsWith("bad-"))).toEqual([]);
  });
});
