// The encoded parts of the plain 402 (`payment_required`, docs/ARCHITECTURE.md §6), kept per isolate.
// For one tenant version, request (method and URL), terms and signed offer, the PAYMENT-REQUIRED
// value and the body are the same bytes every time but for the body's requestId; building them
// (the Bazaar listing, two JSON encodings of ~4 KB, base64) was most of a 402's own CPU. Every
// agent's first request to a paid API is a 402 and 402s are never metered, so they should cost
// next to nothing. Strings only (values, never promises: ARCHITECTURE §6), bounded; an offer is
// one object for as long as it is reused (receipts/issue.ts), so its entries go with it.

export interface EncodedChallenge {
  /** The PAYMENT-REQUIRED header value. */
  header: string;
  /** The body as JSON, without its requestId (the last member of the body). */
  bodyWithoutRequestId: string;
}

const MAX_PER_OFFER = 256;
const byOffer = new WeakMap<object, Map<string, EncodedChallenge>>();
/** The entries of 402s that carry no offer (no signing key). */
const NO_OFFER = {};

/** The cached encoding for `key` under `offer`, or the one `build` makes (then kept). */
export function encodedChallenge(offer: object | null, key: string, build: () => EncodedChallenge): EncodedChallenge {
  const holder = offer ?? NO_OFFER;
  let entries = byOffer.get(holder);
  if (!entries) {
    entries = new Map();
    byOffer.set(holder, entries);
  }
  const hit = entries.get(key);
  if (hit) return hit;
  const built = build();
  entries.set(key, built);
  if (entries.size > MAX_PER_OFFER) entries.delete(entries.keys().next().value!);
  return built;
}

/** The body with its requestId: the same bytes as JSON.stringify of the object with requestId last. */
export function bodyWithRequestId(encoded: EncodedChallenge, requestId: string): string {
  const open = encoded.bodyWithoutRequestId.slice(0, -1);
  const separator = open.endsWith("{") ? "" : ",";
  return `${open}${separator}"requestId":${JSON.stringify(requestId)}}`;
}
