// A paid-call e2e environment whose facilitator answers can be held or changed: the real local
// stack (anvil + token + facilitator), with a pass-through HTTP facilitator in front of the real
// one that the dispatcher uses. A test sets `gate.verify` / `gate.settle` to decide, per call,
// when and what to answer (by default: the real facilitator's answer, at once). It is how the
// overlapped paid phases are seen from outside: what happens while /verify is still out.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPaymentStack } from "../../../cli/stack/index.ts";
import { ensureDevSecrets } from "../../../cli/local/dev-vars.ts";
import { startDispatcher } from "../../../cli/local/dispatcher.ts";
import { freePort, listenOnLoopback } from "../../../cli/local/ports.ts";
import type { PaidEnv } from "./paid-env.ts";

/** Answers one facilitator call: `real()` asks the real facilitator. */
export type GateHook = (real: () => Promise<any>, body: any) => Promise<any>;

export interface Gate {
  verify: GateHook | null;
  settle: GateHook | null;
  /** How many calls of each the dispatcher made. */
  calls: { verify: number; settle: number };
  /** When (Date.now()) each /settle answer was sent. */
  settleAnsweredAt: number[];
}

export async function startGatedEnv(): Promise<PaidEnv & { gate: Gate }> {
  const dir = mkdtempSync(join(tmpdir(), "claw-gated-"));
  const payments = await startPaymentStack({ anvil: { startTimeoutMs: 60_000 } });
  const gate: Gate = { verify: null, settle: null, calls: { verify: 0, settle: 0 }, settleAnsweredAt: [] };
  const upstream = payments.facilitatorUrl.replace(/\/+$/, "");
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "/";
    const real = async () => {
      const init =
        req.method === "POST" ? { method: "POST", headers: { "content-type": "application/json" }, body: text } : {};
      return (await fetch(`${upstream}${path}`, init)).json();
    };
    try {
      const hook = path === "/verify" ? gate.verify : path === "/settle" ? gate.settle : null;
      if (path === "/verify") gate.calls.verify += 1;
      if (path === "/settle") gate.calls.settle += 1;
      const answer = hook ? await hook(real, text ? JSON.parse(text) : null) : await real();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      if (path === "/settle") gate.settleAnsweredAt.push(Date.now());
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
  const gated = await listenOnLoopback(server);
  const secrets = ensureDevSecrets();
  const dispatcher = await startDispatcher({
    port: await freePort(),
    persistTo: join(dir, "state"),
    vars: {
      FACILITATOR_URL: gated.url,
      CHAIN_RPC_URL: payments.rpcUrl,
      PLATFORM_NETWORK: payments.network,
      PLATFORM_ASSET: JSON.stringify(payments.asset),
    },
  });
  const stopAll = async () => {
    await dispatcher.stop();
    await gated.stop();
    await payments.stop();
  };
  const stack = { payments, dispatcher, secrets, apiUrl: dispatcher.url, stop: stopAll };
  const res = await fetch(`${stack.apiUrl}/__platform/creators`, {
    method: "POST",
    headers: { authorization: `Bearer ${secrets.OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "overlap e2e" }),
  });
  if (res.status !== 201) throw new Error(`creator: ${res.status} ${await res.text()}`);
  const creatorKey = ((await res.json()) as any).apiKey.key as string;
  const stop = async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  };
  return { stack, creatorKey, stop, gate };
}
