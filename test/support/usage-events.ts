// Test fixture: a valid usage event (a settled $0.001 paid call) with any field overridden.
import type { UsageEvent } from "../../objects/shared/usage-event.ts";

export function usageEvent(over: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: `req_${crypto.randomUUID().replaceAll("-", "")}`,
    ts: Date.now(),
    apiId: "weather",
    owner: "cr_a",
    directory: "general",
    caller: "0x00000000000000000000000000000000000000aa",
    status: 200,
    latencyMs: 80,
    priceAtomic: "1000",
    billedAtomic: "1000",
    lifecycle: "payment_settled",
    countable: true,
    billable: true,
    network: "eip155:84532",
    env: "test",
    ...over,
  };
}
