// A tenant's prices in one short phrase for tables (docs/ARCHITECTURE.md §5, §13), pure: the
// default price and every per-operation price (src/config/prices.ts), exact or usage-priced. The
// API page lists each operation's own price; this is the one-cell summary the dashboard shows.
import { entryPrice, type PriceEntry } from "../config/prices.ts";

export function priceSummary(defaultUsd: number, prices: Record<string, PriceEntry> = {}): string {
  const entries = [{ usd: defaultUsd, mode: "exact" as const }, ...Object.values(prices).map(entryPrice)];
  const paid = entries.filter((e) => e.usd > 0);
  if (paid.length === 0) return "free";
  const amounts = [...new Set(paid.map((e) => e.usd))].sort((a, b) => a - b);
  const hasFree = paid.length < entries.length;
  const usage = paid.some((e) => e.mode === "upto");
  if (amounts.length === 1 && !hasFree && !usage) return `$${amounts[0]}`;
  const range = amounts.length === 1 ? `$${amounts[0]}` : `$${amounts[0]}–$${amounts[amounts.length - 1]}`;
  const notes = [usage ? "some usage-priced" : "", hasFree ? "some free" : ""].filter(Boolean);
  return `${range} per operation${notes.length ? ` (${notes.join(", ")})` : ""}`;
}
