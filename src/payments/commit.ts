// Committing a settled payment to the meter (settlement, stored response, ledger outbox), run in
// waitUntil after the content went out (docs/ARCHITECTURE.md §3). The admit stored the payment
// payload and requirements with the reservation, so if every attempt here fails (or the isolate
// dies first), the meter's orphan check asks the facilitator and commits it from the chain's
// answer; until then a duplicate of the payment gets `409 payment_in_flight`.
import type { TenantMeterStub } from "../tenancy/meter-config.ts";

const COMMIT_ATTEMPTS = 3;
/** Between commit attempts: 100 ms, then 200 ms (well inside waitUntil's time after the response). */
const COMMIT_RETRY_DELAY_MS = 100;

type CommitArgs = Parameters<TenantMeterStub["commit"]>;

export async function commitWithRetry(meter: TenantMeterStub, ...args: CommitArgs): Promise<void> {
  const what = `settled payment ${args[0]} tx ${args[1].transaction}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await meter.commit(...args);
      if (result === "unknown_payment") console.error(`COMMIT REFUSED for ${what}: the meter does not know it`);
      return;
    } catch (err) {
      // The money moved and the content went out. If every attempt fails, the meter's orphan
      // check commits it from the chain's answer (without the transaction hash): log loudly.
      if (attempt >= COMMIT_ATTEMPTS) {
        console.error(`COMMIT FAILED for ${what}; left to the meter's orphan check`, err);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, COMMIT_RETRY_DELAY_MS * attempt));
    }
  }
}
