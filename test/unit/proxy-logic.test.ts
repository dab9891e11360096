// Pure proxy logic: SSRF classification, upstream URL joining, transform, cache policy, LRU.
import { describe, expect, it } from "vitest";
import { checkUpstreamUrl, classifyIpv6, parseIpv6 } from "../../src/runtimes/proxy/ssrf.ts";
import { upstreamUrlFor } from "../../src/runtimes/proxy/engine.ts";
import { applyTransform } from "../../src/runtimes/proxy/transform.ts";
import { cacheTtlFor, LruCache } from "../../src/runtimes/proxy/cache.ts";
import { egressProblem } from "../../src/runtimes/egress-gateway.ts";

describe("SSRF guard", () => {
  const refused = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest",
    "http://169.254.1.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fd00:ec2::254]/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://localhost/",
    "http://api.localhost/",
    "http://intranet/",
    "http://metadata.google.internal/",
    "http://db.internal/",
    "ftp://example.com/",
    "http://user:pw@example.com/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
  ];
  for (const url of refused) it(`refuses ${url}`, () => expect(checkUpstreamUrl(url).ok).toBe(false));

  it("allows public names and addresses", () => {
    for (const url of [
      "https://api.example.com/v3",
      "https://8.8.8.8/",
      "https://[2606:4700::1111]/",
      "https://example.com:8443/x",
    ])
      expect(checkUpstreamUrl(url).ok).toBe(true);
  });

  it("the dev allowance admits loopback only", () => {
    for (const url of ["http://127.0.0.1:9000/", "http://[::1]/", "http://localhost:3000/"])
      expect(checkUpstreamUrl(url, { allowLoopback: true }).ok).toBe(true);
    for (const url of [
      "http://10.0.0.1/",
      "http://169.254.169.254/",
      "http://[fe80::1]/",
      "http://[::ffff:a9fe:a9fe]/",
    ])
      expect(checkUpstreamUrl(url, { allowLoopback: true }).ok).toBe(false);
  });

  it("parses embedded IPv4 tails", () => {
    expect(classifyIpv6(parseIpv6("::ffff:10.1.2.3")!)).toBe("private");
    expect(parseIpv6("1::2::3")).toBeNull();
  });

  it("function egress: only allowedHosts, and never unsafe targets", () => {
    expect(egressProblem("https://api.example.com/x", ["api.example.com"])).toBeNull();
    expect(egressProblem("https://other.example.com/x", ["api.example.com"])).toMatch(/allowedHosts/);
    expect(egressProblem("http://127.0.0.1/", ["127.0.0.1"])).toMatch(/loopback/);
  });
});

describe("upstream URL", () => {
  it("keeps the base path and the query", () => {
    expect(upstreamUrlFor("https://api.example.com/api/v3", "/coins/list", "?a=1")).toBe(
      "https://api.example.com/api/v3/coins/list?a=1",
    );
    expect(upstreamUrlFor("https://api.example.com/api/v3/", "/", "")).toBe("https://api.example.com/api/v3");
    expect(upstreamUrlFor("https://api.example.com", "/x", "")).toBe("https://api.example.com/x");
  });
});

describe("transform", () => {
  it("picks (dotted) and renames, on objects and arrays", () => {
    const t = { pick: ["id", "price.usd", "missing"], rename: { id: "coin" } };
    expect(applyTransform({ id: "btc", name: "Bitcoin", price: { usd: 1, eur: 2 } }, t)).toEqual({
      coin: "btc",
      price: { usd: 1 },
    });
    expect(applyTransform([{ id: 1, x: 2 }, 3], t)).toEqual([{ coin: 1 }, 3]);
    expect(applyTransform({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(Object.getPrototypeOf(applyTransform({ a: 1 }, { rename: { a: "__proto__" } }))).toBe(Object.prototype);
  });
});

describe("cache policy", () => {
  const h = (cc?: string, extra: Record<string, string> = {}) =>
    new Headers({ ...(cc ? { "cache-control": cc } : {}), ...extra });
  it("caches GET 200 for the configured TTL, capped by max-age", () => {
    expect(cacheTtlFor("GET", 200, h(), 60)).toBe(60);
    expect(cacheTtlFor("GET", 200, h("public, max-age=10"), 60)).toBe(10);
    expect(cacheTtlFor("GET", 200, h("s-maxage=5, max-age=100"), 60)).toBe(5);
  });
  it("honours no-store, private, no-cache, Set-Cookie, non-GET, non-200 and TTL 0", () => {
    expect(cacheTtlFor("GET", 200, h("no-store"), 60)).toBe(0);
    expect(cacheTtlFor("GET", 200, h("Private, max-age=60"), 60)).toBe(0);
    expect(cacheTtlFor("GET", 200, h("no-cache"), 60)).toBe(0);
    expect(cacheTtlFor("GET", 200, h(undefined, { "set-cookie": "a=b" }), 60)).toBe(0);
    expect(cacheTtlFor("POST", 200, h(), 60)).toBe(0);
    expect(cacheTtlFor("GET", 404, h(), 60)).toBe(0);
    expect(cacheTtlFor("GET", 200, h(), 0)).toBe(0);
  });
  it("LRU evicts the least recently used and expires entries", () => {
    const lru = new LruCache(2, 1e6);
    const entry = (expiresAt: number) => ({ status: 200, headers: [], body: new ArrayBuffer(1), expiresAt });
    lru.set("a", entry(100));
    lru.set("b", entry(100));
    lru.get("a", 0);
    lru.set("c", entry(100));
    expect(lru.get("b", 0)).toBeNull();
    expect(lru.get("a", 0)).not.toBeNull();
    expect(lru.get("a", 100)).toBeNull();
  });
});
