// The whole local stack in one call, shared by `claw dev`, node e2e tests and benchmarks:
// chain + token + facilitator (cli/stack) and the dispatcher wired to that facilitator.
import { startPaymentStack, type PaymentStack } from "../stack/index.ts";
import { ensureDevSecrets, type DevSecrets } from "../local/dev-vars.ts";
import { startDispatcher, type LocalDispatcher } from "../local/dispatcher.ts";

export interface LocalStack {
  payments: PaymentStack;
  dispatcher: LocalDispatcher;
  secrets: DevSecrets;
  apiUrl: string;
  stop: () => Promise<void>;
}

export interface LocalStackOptions {
  port?: number;
  persistTo?: string;
  echo?: boolean;
  /** Extra dispatcher vars (e.g. CF_* for publish tests). */
  vars?: Record<string, string>;
  /** Options of the payment stack (e.g. a longer anvil start on a loaded machine). */
  payments?: Parameters<typeof startPaymentStack>[0];
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const secrets = ensureDevSecrets();
  const payments = await startPaymentStack(options.payments);
  let dispatcher: LocalDispatcher;
  try {
    const vars = {
      ...options.vars,
      FACILITATOR_URL: payments.facilitatorUrl,
      CHAIN_RPC_URL: payments.rpcUrl, // the meter decides held settlements from the local token
      // GET /v1/platform tells the CLI these, so a deploy without --asset settles in the local token.
      PLATFORM_NETWORK: payments.network,
      PLATFORM_ASSET: JSON.stringify(payments.asset),
    };
    dispatcher = await startDispatcher({ ...options, vars });
  } catch (err) {
    await payments.stop();
    throw err;
  }
  return {
    payments,
    dispatcher,
    secrets,
    apiUrl: dispatcher.url,
    stop: async () => {
      await dispatcher.stop();
      await payments.stop();
    },
  };
}
