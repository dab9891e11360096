// Seeds a local dispatcher: a dev creator whose key is kept in .claw/dev.json (reused while it
// still works) and the demo tenants from demo/. Idempotent: rerunning redeploys the demos.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { DeployResponse } from "../api/types.ts";
import { DEMO_DIR } from "../local/paths.ts";
import { readDevState, saveDevState } from "../local/dev-state.ts";

export interface DemoTenant {
  slug: string;
  file: string;
  config: Record<string, unknown>;
}

export const DEMO_TENANTS: DemoTenant[] = [
  {
    slug: "world-cities",
    file: "world-cities.csv",
    config: {
      description: "Large world cities with country, population and coordinates. Free demo dataset.",
      directory: "geo",
      rateLimit: { perCaller: { requests: 60, windowSeconds: 60 }, global: { requests: 10000, windowSeconds: 3600 } },
      usageLimit: { dailyRequests: 100000 },
    },
  },
  {
    // The same data behind x402: $0.001 per call, paid in the local chain's token.
    slug: "world-cities-pro",
    file: "world-cities.csv",
    config: {
      description: "World cities, paid per call ($0.001) with x402. Demo of the payment flow.",
      directory: "geo",
      priceUsd: 0.001,
      spendLimit: { perPayerDailyUsd: 1 },
    },
  },
];

export interface DevCreator {
  creatorId: string;
  key: string;
}

interface ApiAnswer {
  status: number;
  body: unknown;
}

async function api(url: string, init: RequestInit): Promise<ApiAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // non-JSON answer is kept as text for the error message
  }
  return { status: res.status, body };
}

/** The saved dev creator while its key still works here, else a new one (saved in .claw/dev.json). */
export async function ensureDevCreator(apiUrl: string, operatorToken: string): Promise<DevCreator> {
  const saved = readDevState();
  if (saved.key && saved.creatorId) {
    const me = await api(`${apiUrl}/v1/me`, { headers: { authorization: `Bearer ${saved.key}` } });
    if (me.status === 200) return { creatorId: saved.creatorId, key: saved.key };
  }
  const created = await api(`${apiUrl}/__platform/creators`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Local Dev Creator", email: "dev@localhost.test", key: { name: "claw dev" } }),
  });
  const body = created.body as { creator?: { id: string }; apiKey?: { key: string } };
  if (created.status !== 201 || !body.creator || !body.apiKey) {
    throw new Error(`creating the dev creator failed: ${created.status} ${JSON.stringify(created.body)}`);
  }
  const creator: DevCreator = { creatorId: body.creator.id, key: body.apiKey.key };
  saveDevState(creator);
  return creator;
}

export async function deployDemo(
  apiUrl: string,
  key: string,
  demo: DemoTenant,
  extraConfig: Record<string, unknown> = {},
): Promise<DeployResponse> {
  const form = new FormData();
  const path = join(DEMO_DIR, demo.file);
  form.set("file", new File([readFileSync(path)], basename(path)));
  form.set("config", JSON.stringify({ ...demo.config, ...extraConfig }));
  const init = { method: "POST", headers: { authorization: `Bearer ${key}` }, body: form };
  const res = await api(`${apiUrl}/v1/tenants/${demo.slug}/deployments`, init);
  if (res.status !== 201) {
    throw new Error(`deploying demo '${demo.slug}' failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as DeployResponse;
}
