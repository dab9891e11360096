// SSRF guard: decides from the URL alone (we resolve nothing) whether an upstream may be fetched.
// The WHATWG URL parser has already normalized IPv4 tricks (2130706433, 0x7f.1, 0177.0.0.1 all
// become 127.0.0.1) and IPv6 literals, so classification works on canonical forms. Host names
// with a dot are allowed (Workers cannot reach private networks by name in production; DNS
// rebinding to private space is refused at Cloudflare's edge); single-label names, localhost and
// known metadata names are refused.

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const BLOCKED_NAMES = new Set([
  "localhost",
  "metadata.google.internal",
  "metadata",
  "instance-data",
  "metadata.azure.com",
]);
const BLOCKED_SUFFIXES = [
  ".localhost",
  ".internal",
  ".local",
  ".localdomain",
  ".home.arpa",
  ".intranet",
  ".corp",
  ".lan",
];

export interface SsrfOptions {
  /** Dev allowance: loopback (127/8, ::1, localhost) is permitted. Never private/link-local/metadata. */
  allowLoopback?: boolean;
}

export function checkUpstreamUrl(input: string | URL, options: SsrfOptions = {}): UrlVerdict {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, reason: `scheme ${url.protocol} is not allowed (http/https only)` };
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const reason = hostProblem(host, options);
  return reason ? { ok: false, reason } : { ok: true, url };
}

/** Why a (URL-normalized) host is unsafe, or null. */
export function hostProblem(host: string, options: SsrfOptions = {}): string | null {
  if (!host) return "empty host";
  if (host.startsWith("[")) {
    const groups = parseIpv6(host.slice(1, -1));
    if (!groups) return "malformed IPv6 address";
    const cls = classifyIpv6(groups);
    if (cls === "public") return null;
    if (cls === "loopback" && options.allowLoopback) return null;
    return `${cls} address ${host} is not allowed`;
  }
  const v4 = parseIpv4(host);
  if (v4) {
    const cls = classifyIpv4(v4);
    if (cls === "public") return null;
    if (cls === "loopback" && options.allowLoopback) return null;
    return `${cls} address ${host} is not allowed`;
  }
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return `numeric host ${host} is not allowed`;
  if (host === "localhost" || host.endsWith(".localhost"))
    return options.allowLoopback ? null : `loopback host ${host} is not allowed`;
  if (BLOCKED_NAMES.has(host)) return `host ${host} is not allowed`;
  if (!host.includes(".")) return `single-label host name ${host} is not allowed (use a public DNS name)`;
  for (const suffix of BLOCKED_SUFFIXES) if (host.endsWith(suffix)) return `internal host name ${host} is not allowed`;
  return null;
}

export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "metadata"
  | "reserved"
  | "multicast"
  | "unspecified";

export function parseIpv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

export function classifyIpv4([a, b, c, d]: number[]): AddressClass {
  if (a === undefined || b === undefined || c === undefined || d === undefined) return "reserved";
  if (a === 169 && b === 254 && c === 169 && d === 254) return "metadata";
  if (a === 0) return a + b + c + d === 0 ? "unspecified" : "reserved";
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 100 && b >= 64 && b <= 127) return "private"; // carrier-grade NAT
  if (a === 169 && b === 254) return "link-local";
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return "reserved";
  if (a === 198 && (b === 18 || b === 19)) return "reserved"; // benchmarking
  if (a === 198 && b === 51 && c === 100) return "reserved";
  if (a === 203 && b === 0 && c === 113) return "reserved";
  if (a === 192 && b === 88 && c === 99) return "reserved";
  if (a >= 224 && a <= 239) return "multicast";
  if (a >= 240) return "reserved";
  return "public";
}

/** Parses an IPv6 literal (as the URL parser prints it, possibly with an embedded IPv4 tail) into 8 groups. */
export function parseIpv6(text: string): number[] | null {
  let s = text.toLowerCase();
  if (s.includes("%")) return null; // zone ids
  const v4 = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (v4) {
    // Embedded IPv4 tail (::ffff:1.2.3.4): rewrite as two hex groups.
    const parts = parseIpv4(v4[1]!);
    if (!parts) return null;
    s =
      s.slice(0, -v4[1]!.length) +
      ((parts[0]! << 8) | parts[1]!).toString(16) +
      ":" +
      ((parts[2]! << 8) | parts[3]!).toString(16);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const read = (part: string) =>
    part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = read(halves[0]!);
  const rest = halves.length === 2 ? read(halves[1]!) : [];
  const want = 8;
  let groups: number[];
  if (halves.length === 2) {
    const fill = want - head.length - rest.length;
    if (fill < 0) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else groups = head;
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return null;
  return groups;
}

export function classifyIpv6(g: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = (hi: number, lo: number) => classifyIpv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 0) return "unspecified";
  if (zeroPrefix && g5 === 0 && g6 === 0 && g7 === 1) return "loopback";
  if (zeroPrefix && (g5 === 0xffff || g5 === 0)) return embedded(g6, g7); // IPv4-mapped / IPv4-compatible
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return embedded(g6, g7); // IPv4-translated
  if (g0 === 0x64 && g1 === 0xff9b) return embedded(g6, g7); // NAT64
  if (g0 === 0x2002) return embedded(g1, g2); // 6to4
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g7 === 0x254) return "metadata"; // AWS IMDS over IPv6
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "private"; // deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if (g0 === 0x2001 && g1 === 0x0db8) return "reserved"; // documentation
  if (g0 === 0x2001 && g1 === 0) return "reserved"; // Teredo
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return "reserved"; // discard
  if ((g0 & 0xe000) !== 0x2000) return "reserved"; // outside global unicast 2000::/3
  return "public";
}
