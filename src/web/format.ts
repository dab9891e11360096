// Display formatting for the web pages (docs/ARCHITECTURE.md §13). Pure. Money is never formatted
// here: USD strings come from objects/shared/money.ts (a non-zero amount never shows as $0.00).

export function formatInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  return Math.round(n).toLocaleString("en-US");
}

/** 0.98765 → "98.8%"; null (no attempts) → "–". */
export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "–";
  return `${(ratio * 100).toFixed(digits)}%`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** A factor or score: up to 3 decimals, no trailing zeros ("0.5", "1", "2.378"). */
export function formatFactor(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return String(Number(x.toFixed(3)));
}

/** 0x1234…abcd for a 0x address or hash; other callers (ip:<hmac>) shortened the same way. */
export function shortId(value: string, head = 6, tail = 4): string {
  return value.length <= head + tail + 1 ? value : `${value.slice(0, head)}…${value.slice(-tail)}`;
}

export function isoMinute(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "1 call", "2 calls" (English plural by adding s). */
export function plural(n: number, noun: string): string {
  return `${formatInt(n)} ${n === 1 ? noun : `${noun}s`}`;
}
