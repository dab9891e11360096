// What a facilitator publishes at GET /supported (x402 v2: the scheme/network kinds it settles,
// each with its `extra` such as upto's `facilitatorAddress`, its extensions and its signer
// addresses), read with valibot and cached per isolate for a short TTL: it changes only when the
// facilitator is reconfigured, and every paid call's verify asks whether its kind is supported.
// The cache holds values, never promises (docs/ARCHITECTURE.md §6: a promise made in one request
// cannot be awaited in another); concurrent misses each fetch once, and the last answer wins.
import * as v from "valibot";
import { FacilitatorUnavailable } from "./errors.ts";

const TIMEOUT_MS = 10_000;
/** Short: a reconfigured facilitator is seen within a minute, and a miss costs one GET. */
const TTL_MS = 60_000;

const SupportedSchema = v.object({
  kinds: v.array(
    v.object({
      x402Version: v.number(),
      scheme: v.string(),
      network: v.string(),
      extra: v.optional(v.record(v.string(), v.unknown())),
    }),
  ),
  extensions: v.optional(v.array(v.string()), []),
  signers: v.optional(v.record(v.string(), v.array(v.string())), {}),
});

export type Supported = v.InferOutput<typeof SupportedSchema>;
export type SupportedKind = Supported["kinds"][number];

const cache = new Map<string, { supported: Supported; expiresAt: number }>();

/**
 * The facilitator's /supported document (all x402 versions; filter by `x402Version`), at most
 * TTL_MS old. Throws FacilitatorUnavailable when it cannot be fetched or read (never cached).
 */
export async function facilitatorSupported(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<Supported> {
  const base = baseUrl.replace(/\/+$/, "");
  const now = Date.now();
  const hit = cache.get(base);
  if (hit && hit.expiresAt > now) return hit.supported;
  let json: unknown;
  try {
    const res = await fetchImpl(`${base}/supported`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    json = res.ok ? await res.json() : null;
  } catch (err) {
    throw new FacilitatorUnavailable(`GET /supported failed: ${(err as Error).name}`);
  }
  const parsed = v.safeParse(SupportedSchema, json);
  if (!parsed.success) throw new FacilitatorUnavailable("GET /supported returned an unreadable answer");
  if (cache.size > 16) cache.clear(); // one facilitator per deployment; bounded all the same
  cache.set(base, { supported: parsed.output, expiresAt: Date.now() + TTL_MS });
  return parsed.output;
}

/**
 * The x402 v2 kind for `scheme` on `network` the facilitator at `baseUrl` lists (for `upto`, its
 * `extra.facilitatorAddress`), or null when it lists none. Same cache, same errors.
 */
export async function supportedKind(
  baseUrl: string,
  scheme: string,
  network: string,
  fetchImpl: typeof fetch = fetch,
): Promise<SupportedKind | null> {
  const { kinds } = await facilitatorSupported(baseUrl, fetchImpl);
  return kinds.find((k) => k.x402Version === 2 && k.scheme === scheme && k.network === network) ?? null;
}
