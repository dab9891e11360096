// A receipt as the ledger keeps it (JSON text in ledger.receipt, migrations/0007) back to its
// object, for earnings and the dashboard. Parsed with the same schema as any receipt from outside:
// a row that does not hold one reads as null rather than failing the page.
import type { EIP712SignedReceipt } from "@x402/extensions/offer-receipt";
import { parseReceipt } from "./verify.ts";

export function storedReceipt(text: string | null | undefined): EIP712SignedReceipt | null {
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = parseReceipt(value);
  return "receipt" in parsed ? parsed.receipt : null;
}
