// Real paid traffic against a local stack, shared by `claw dev`'s demo market (market.ts) and the
// web tests' market (test/node/web/support/market.ts): creators made through the operator API,
// payers paying with the official x402 client (@x402/fetch over @x402/core + @x402/evm's exact
// scheme, as `claw call` does: one 402 challenge, then one paid retry, per paid call), a bounded
// pool to run payer sessions concurrently, and waits for the meters to deliver what was paid.
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { LocalStack } from "./stack.ts";

export interface Creator {
  id: string;
  key: string;
}

/** The JSON body when the status is the expected one, else an error naming what failed. */
export async function expectStatus<T = unknown>(res: Response, expected: number, what: string): Promise<T> {
  const body = await res.text();
  if (res.status !== expected) throw new Error(`${what}: ${res.status} ${body.slice(0, 500)}`);
  return (body ? JSON.parse(body) : null) as T;
}

/** fetch against the stack with the operator token. */
export function operatorFetch(stack: LocalStack) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`${stack.apiUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${stack.secrets.OPERATOR_TOKEN}`, ...(init.headers ?? {}) },
    });
}

export async function createCreator(stack: LocalStack, name: string): Promise<Creator> {
  const res = await operatorFetch(stack)("/__platform/creators", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  type Created = { creator?: { id: string }; id?: string; apiKey: { key: string } };
  const body = await expectStatus<Created>(res, 201, `create creator ${name}`);
  return { id: body.creator?.id ?? body.id ?? "", key: body.apiKey.key };
}

/**
 * Links a wallet to the creator (POST /v1/wallets): its calls to the creator's APIs are self-dealt.
 * 201 when new, 200 when it already was (a restart of the demo market on kept state).
 */
export async function registerWallet(stack: LocalStack, creator: Creator, address: string): Promise<void> {
  const res = await fetch(`${stack.apiUrl}/v1/wallets`, {
    method: "POST",
    headers: { authorization: `Bearer ${creator.key}`, "content-type": "application/json" },
    body: JSON.stringify({ address }),
  });
  await expectStatus(res, res.status === 200 ? 200 : 201, "register wallet");
}

/** The official x402 client paying from `key`, only in the stack's token on the stack's network. */
export function payerClient(stack: LocalStack, key: Hex): x402Client {
  const client = new x402Client();
  client.register(stack.payments.network, new ExactEvmScheme(privateKeyToAccount(key)));
  client.setSpendControls({
    allowedAssets: [{ network: stack.payments.network, asset: stack.payments.asset.address }],
  });
  return client;
}

/** A fetch that pays 402s from `key` with `payerClient`. */
export function payingFetch(stack: LocalStack, key: Hex): typeof fetch {
  return wrapFetchWithPayment(fetch, payerClient(stack, key));
}

/** Runs the tasks with at most `limit` in flight; rejects with the first failure. */
export async function runBounded(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

export async function waitFor<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Waits until the leaderboard has received, per API, the settled payments made since `sinceMs`.
 * The raw call events (GET /__platform/events, docs/ARCHITECTURE.md §14) are written when a call
 * is answered, so they show the calls are done; the meters deliver their usage events to the
 * leaderboard on their alarms, a moment later, so it has them once a rollup counts at least as
 * many events for the API as its raw events list.
 */
export async function waitForSettledEvents(
  stack: LocalStack,
  expected: Record<string, number>,
  sinceMs = 0,
): Promise<void> {
  const operator = operatorFetch(stack);
  const recorded = async (slug: string) => {
    const res = await operator(`/__platform/events?limit=1000&api=${encodeURIComponent(slug)}`);
    const body = await expectStatus<{ items: { lifecycle: string; ts: number }[] }>(res, 200, "raw events");
    const settled = body.items.filter((e) => e.lifecycle === "payment_settled" && e.ts >= sinceMs).length;
    return { settled, all: body.items.length };
  };
  const seen = await Promise.all(
    Object.entries(expected).map(async ([slug, n]) => {
      const got = await waitFor(
        () => recorded(slug),
        (r) => r.settled >= n,
        `settled calls of ${slug}`,
      );
      return [slug, got.all] as const;
    }),
  );
  const ingested = async () => {
    await forceRollup(stack);
    return Promise.all(
      seen.map(async ([slug, all]) => {
        const res = await fetch(`${stack.apiUrl}/v1/apis/${encodeURIComponent(slug)}`);
        if (!res.ok) return false; // not in a snapshot yet
        const body = (await res.json()) as { api: { windows: { overall: { metrics: { events: number } } } } };
        return body.api.windows.overall.metrics.events >= all;
      }),
    );
  };
  await waitFor(ingested, (done) => done.every(Boolean), "usage events in the leaderboard");
}

/** Forces the leaderboard rollup now (instead of at its next alarm). */
export async function forceRollup(stack: LocalStack): Promise<void> {
  await expectStatus(await operatorFetch(stack)("/__platform/rollup", { method: "POST" }), 200, "rollup");
}
