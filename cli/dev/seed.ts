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

/** Who `claw dev` seeds as: found again by this email in state kept from an earlier run. */
const DEV_CREATOR = { name: "Local Dev Creator", email: "dev@localhost.test" } as const;

/** Who the benches deploy as on their own stacks (bench/). */
export const BENCH_CREATOR = { name: "Bench Creator", email: "bench@localhost.test" } as const;

function bearer(token: string) {
  return { authorization: `Bearer ${token}`, "content-type": "application/json" };
}

/**
 * The dev creator `claw dev` deploys the demos as, saved in .claw/dev.json: the saved key while it
 * still works here; else, on state kept from an earlier run whose key was lost, a new key for
 * that run's dev creator (the demo slugs are its own, so deploying them as anybody else would be
 * refused `slug_taken`); else a new creator.
 */
export async function ensureDevCreator(apiUrl: string, operatorToken: string): Promise<DevCreator> {
  const saved = readDevState();
  if (saved.key && saved.creatorId) {
    const me = await api(`${apiUrl}/v1/me`, { headers: { authorization: `Bearer ${saved.key}` } });
    if (me.status === 200) return { creatorId: saved.creatorId, key: saved.key };
  }
  const creator = (await keyForKeptDevCreator(apiUrl, operatorToken)) ?? (await createCreator(apiUrl, operatorToken));
  saveDevState(creator);
  return creator;
}

/** A new key for the oldest creator with the dev creator's email in this state, or null if none. */
async function keyForKeptDevCreator(apiUrl: string, operatorToken: string): Promise<DevCreator | null> {
  const listed = await api(`${apiUrl}/__platform/creators`, { headers: bearer(operatorToken) });
  const creators = (listed.body as { creators?: { id: string; email: string | null }[] }).creators;
  if (listed.status !== 200 || !creators) {
    throw new Error(`listing creators failed: ${listed.status} ${JSON.stringify(listed.body)}`);
  }
  const kept = creators.find((c) => c.email === DEV_CREATOR.email);
  if (!kept) return null;
  const init = { method: "POST", headers: bearer(operatorToken), body: JSON.stringify({ name: "claw dev" }) };
  const issued = await api(`${apiUrl}/__platform/creators/${encodeURIComponent(kept.id)}/keys`, init);
  const key = (issued.body as { apiKey?: { key: string } }).apiKey?.key;
  if (issued.status !== 201 || !key) {
    throw new Error(`issuing a key for the dev creator failed: ${issued.status} ${JSON.stringify(issued.body)}`);
  }
  return { creatorId: kept.id, key };
}

/**
 * A new creator, saved nowhere: what the benches deploy as on their own throwaway stacks, so they
 * never replace the key `claw dev` keeps for this checkout's state. `who` defaults to the dev creator.
 */
export async function createCreator(
  apiUrl: string,
  operatorToken: string,
  who: { name: string; email: string } = DEV_CREATOR,
): Promise<DevCreator> {
  const created = await api(`${apiUrl}/__platform/creators`, {
    method: "POST",
    headers: bearer(operatorToken),
    body: JSON.stringify({ ...who, key: { name: "claw dev" } }),
  });
  const body = created.body as { creator?: { id: string }; apiKey?: { key: string } };
  if (created.status !== 201 || !body.creator || !body.apiKey) {
    throw new Error(`creating the creator ${who.email} failed: ${created.status} ${JSON.stringify(created.body)}`);
  }
  return { creatorId: body.creator.id, key: body.apiKey.key };
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
