// Hot-tenant lease benchmark Worker (bench/lease.ts starts it with wrangler dev on 127.0.0.1). It
// re-exports the real TenantMeter (objects/meter/, unchanged) and admits one tenant's free calls
// the two ways a dispatcher can:
//
//   GET  /health
//   POST /hot?mode=rpc|lease&calls&concurrency&holders&limit
//        configures a fresh meter (daily quota `limit`, a global bucket too large to refuse),
//        then admits `calls` calls from `concurrency` concurrent loops and returns calls/s,
//        RPCs, admitted and over-admitted (admitted beyond `limit`: must be 0).
//        mode=rpc: one TenantMeter.admit RPC per call (the dispatcher before leases).
//        mode=lease: `holders` independent LeaseCache instances (simulated isolates, the loops
//        spread over them), each admitting from its leases (src/gateway/lease-cache.ts).
//
// Plain JavaScript on purpose, like bench/leaderboard-worker: tsconfig.node.json type-checks
// bench/ with Node types, and this file imports Worker code; wrangler's bundler compiles the .ts.
import { TenantMeter } from "../../objects/meter/tenant-meter.ts";
import { LeaseCache } from "../../src/gateway/lease-cache.ts";

export { TenantMeter };

function int(value, fallback, max) {
  const n = Number(value ?? fallback);
  return Number.isInteger(n) && n > 0 && n <= max ? n : fallback;
}

/** workerd's clock only advances on I/O: a zero timer refreshes it before reading. */
async function clock() {
  await new Promise((resolve) => setTimeout(resolve, 0));
  return Date.now();
}

async function hot(q, env, ctx) {
  const mode = q.get("mode") === "rpc" ? "rpc" : "lease";
  const calls = int(q.get("calls"), 20_000, 10_000_000);
  const concurrency = int(q.get("concurrency"), 40, 1000);
  const holders = int(q.get("holders"), 4, 64);
  const limit = int(q.get("limit"), Math.floor(calls * 0.9), 1e12);
  const slug = `bench-hot-${crypto.randomUUID().slice(0, 8)}`;
  const meter = env.TENANT_METER.get(env.TENANT_METER.idFromName(slug));
  await meter.configure({
    slug,
    version: 1,
    deleted: false,
    rateLimit: { global: { requests: 10_000_000, windowSeconds: 60 } },
    usageLimit: { dailyRequests: limit },
    spendLimit: {},
    priceAtomic: "0",
  });
  const caches = Array.from({ length: holders }, () => new LeaseCache());
  let rpcs = 0;
  const ask = (req) => {
    rpcs += 1;
    return meter.lease(req);
  };
  const defer = (work) => ctx.waitUntil(work.catch(() => undefined));
  const admitOne =
    mode === "rpc"
      ? (_h) => {
          rpcs += 1;
          return meter.admit({ caller: "bench-caller", now: Date.now() });
        }
      : (h) => {
          const call = { caller: "bench-caller", now: Date.now(), version: 1, perCaller: false, ask, defer };
          return caches[h].admit(slug, call);
        };
  let started = 0;
  let admitted = 0;
  const loop = async (h) => {
    while (started < calls) {
      started += 1;
      if ((await admitOne(h)).ok) admitted += 1;
    }
  };
  const t0 = await clock();
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i % holders)));
  const ms = (await clock()) - t0;
  // Leases still held go back (as at their expiry), so the meter's count is final.
  for (const cache of caches) await cache.flush(slug, ask, Date.now() + 5_000);
  return {
    mode,
    holders: mode === "rpc" ? 1 : holders,
    calls,
    concurrency,
    limit,
    admitted,
    overAdmitted: Math.max(0, admitted - limit),
    underAdmitted: Math.max(0, Math.min(calls, limit) - admitted),
    rpcs,
    ms,
    callsPerSec: ms > 0 ? (calls * 1000) / ms : null,
  };
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    if (url.pathname === "/hot" && request.method === "POST") {
      return Response.json(await hot(url.searchParams, env, ctx));
    }
    return new Response("not found", { status: 404 });
  },
};
