// The facilitator's GET /supported, cached per isolate (docs/ARCHITECTURE.md §6): which
// (scheme, network) kinds it settles and each kind's `extra` (for `upto`: the facilitatorAddress a
// buyer's Permit2 witness must name). One exported function, so every reader shares one cache.
// Cached values, never promises: a promise made in one request cannot be awaited in another.
import * as v from "valibot";
import { FacilitatorUnavailable } from "./facilitator.ts";

const SUPPORTED_TIMEOUT_MS = 10_000;
const SUPPORTED_TTL_MS = 5 * 60_000;

const SupportedSchema = v.object({
  kinds: v.array(
    v.object({
      x402Version: v.number(),
      scheme: v.string(),
      network: v.string(),
      extra: v.optional(v.record(v.string(), v.unknown())),
    }),
  ),
});
export type SupportedKind = v.InferOutput<typeof SupportedSchema>["kinds"][number];

let cache: { url: string; kinds: Map<string, SupportedKind>; expiresAt: number } | null = null;

/**
 * The x402 v2 kind for `scheme` on `network` the facilitator at `baseUrl` lists, or null when it
 * lists none. Throws FacilitatorUnavailable when /supported cannot be read.
 */
export async function supportedKind(
  baseUrl: string,
  scheme: string,
  network: string,
  fetchImpl: typeof fetch = fetch,
): Promise<SupportedKind | null> {
  const base = baseUrl.replace(/\/+$/, "");
  const now = Date.now();
  if (!cache || cache.url !== base || cache.expiresAt < now) {
    let json: unknown;
    try {
      const res = await fetchImpl(`${base}/supported`, { signal: AbortSignal.timeout(SUPPORTED_TIMEOUT_MS) });
      json = res.ok ? await res.json() : null;
    } catch (err) {
      throw new FacilitatorUnavailable(`GET /supported failed: ${(err as Error).name}`);
    }
    const parsed = v.safeParse(SupportedSchema, json);
    if (!parsed.success) throw new FacilitatorUnavailable("GET /supported returned an unreadable answer");
    const kinds = new Map<string, SupportedKind>();
    for (const k of parsed.output.kinds) if (k.x402Version === 2) kinds.set(`${k.scheme}|${k.network}`, k);
    cache = { url: base, kinds, expiresAt: now + SUPPORTED_TTL_MS };
  }
  return cache.kinds.get(`${scheme}|${network}`) ?? null;
}
