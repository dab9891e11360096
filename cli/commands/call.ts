// `claw call <url>`: an agent's call. Fetches the URL; on 402 it checks the price against
// --max-price and pays from THAT 402 with the official x402 client (@x402/core's x402HTTPClient
// + @x402/evm's exact scheme): one unpaid request per paid call, so the API's 402→paid funnel
// sees one challenge per payment. The body goes to stdout (pipe it into jq); status, price and
// transaction go to stderr, or everything as one JSON object with --json. A signed receipt (x402
// offer-receipt) is verified against the API's published keys and reported (call-receipt.ts); an
// unverified receipt is a warning, not a failure: the content was paid for and delivered. Exit codes: README "CLI".
import { defineCommand } from "citty";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client, x402HTTPClient } from "@x402/core/client";
import { decodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { UptoEvmScheme } from "@x402/evm/upto/client";
import { CliError, EXIT, usageError } from "../core/errors.ts";
import { readDevState } from "../local/dev-state.ts";
import { runCommand, type Ui } from "../core/ui.ts";
import { checkReceipt, describeCheck, type CheckedArtifact, type PaidOffer } from "./call-receipt.ts";

function walletKey(explicit: string | undefined): `0x${string}` {
  const key = explicit ?? process.env.CLAW_WALLET_KEY ?? readDevState().payerKey;
  if (!key) {
    throw usageError(
      "no wallet key: pass --key 0x… or set CLAW_WALLET_KEY (`npm start` saves a demo payer)",
      "missing_wallet_key",
    );
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw usageError("the wallet key must be a 0x-prefixed 32-byte hex private key", "invalid_wallet_key");
  }
  return key as `0x${string}`;
}

function parseMaxPrice(value: string): number {
  const maxUsd = Number(value);
  if (value.trim() === "" || !Number.isFinite(maxUsd) || maxUsd < 0) {
    const hint = `--max-price must be a non-negative number of USD, e.g. 0.01, got '${value}'`;
    throw usageError(hint, "invalid_max_price");
  }
  return maxUsd;
}

async function send(url: URL, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, { headers });
  } catch (err) {
    throw new CliError(`cannot reach ${url.origin}: ${(err as Error).message}`, EXIT.unavailable, "unreachable");
  }
}

interface Paid {
  amountAtomic: string;
  usd: number;
  asset: string;
  /** The paying wallet and the 402 it paid (its signed offer and resource URL), for the receipt check. */
  payer: string;
  offered: PaidOffer;
}

/** Signs a payment for the 402 already received and sends the request once more with it. */
async function payFrom(
  challenge: Response,
  url: URL,
  maxUsd: number,
  key: string | undefined,
  ui: Ui,
): Promise<{ response: Response; paid: Paid }> {
  const body: unknown = await challenge.json().catch(() => undefined);
  const client = new x402Client();
  const http = new x402HTTPClient(client);
  let required: PaymentRequired;
  try {
    required = http.getPaymentRequiredResponse((name) => challenge.headers.get(name), body);
  } catch {
    const what = "the API answered 402 without a readable PAYMENT-REQUIRED header";
    throw new CliError(what, EXIT.failure, "invalid_challenge");
  }
  const option = required.accepts[0];
  if (!option) throw new CliError("the API's 402 offers no way to pay", EXIT.failure, "invalid_challenge");
  // USDC-style assets have 6 decimals; the price check uses the offered amount in those units.
  const usd = Number(option.amount) / 1e6;
  if (usd > maxUsd) throw usageError(`this call costs $${usd}, more than --max-price $${maxUsd}`, "price_above_max");
  // A usage-priced operation offers `upto`: the payer signs for the ceiling, the API charges what it used.
  const account = privateKeyToAccount(walletKey(key));
  client.register(option.network, option.scheme === "upto" ? new UptoEvmScheme(account) : new ExactEvmScheme(account));
  client.setSpendControls({ allowedAssets: [{ network: option.network, asset: option.asset }] });
  ui.start(`paying $${usd} on ${option.network}…`);
  const payload = await client.createPaymentPayload({ ...required, accepts: [option] });
  const response = await send(url, http.encodePaymentSignatureHeader(payload));
  const offered = { required, accepted: option };
  return { response, paid: { amountAtomic: option.amount, usd, asset: option.asset, payer: account.address, offered } };
}

function receiptContext(url: URL, paid: Paid | null, settlement: { network: string; transaction: string } | null) {
  return {
    url,
    payer: paid?.payer ?? null,
    ...(settlement ? { network: settlement.network, transaction: settlement.transaction } : {}),
    offered: paid?.offered ?? null,
  };
}

function reportChecks(ui: Ui, checked: Awaited<ReturnType<typeof checkReceipt>>): void {
  const line = (what: string, c: CheckedArtifact) => (c.verified ? ui.success : ui.warn)(describeCheck(what, c));
  if (checked.offer) line("offer", checked.offer);
  if (checked.receipt) line("receipt", checked.receipt);
  else ui.info("no signed receipt in PAYMENT-RESPONSE");
}

function parsedBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON: printed as text
  }
}

/** The reason a paid retry was refused, from the new challenge or the error envelope. */
function refusal(response: Response, body: unknown): string {
  const envelope = body as { error?: { code?: string; message?: string } } | null;
  if (envelope?.error?.message) return `${envelope.error.message} (${envelope.error.code ?? "error"})`;
  return `HTTP ${response.status}`;
}

export const callCommand = defineCommand({
  meta: { name: "call", description: "Call an API, paying with x402 if it asks for payment" },
  args: {
    url: { type: "positional", required: true, description: "The API URL" },
    "max-price": { type: "string", description: "Most you will pay for this call, in USD", default: "0.01" },
    key: {
      type: "string",
      description: "Wallet private key (default $CLAW_WALLET_KEY, or the payer `claw dev` saves)",
    },
    json: {
      type: "boolean",
      description: "Print one JSON object (status, paid, transaction, receipt, offer, body)",
      default: false,
    },
  },
  async run({ args }) {
    await runCommand(args.json, async (ui) => {
      const maxUsd = parseMaxPrice(args["max-price"]);
      let url: URL;
      try {
        url = new URL(args.url);
      } catch {
        throw usageError(`not a URL: '${args.url}'`, "invalid_url");
      }
      let response = await send(url);
      let paid: Paid | null = null;
      if (response.status === 402) ({ response, paid } = await payFrom(response, url, maxUsd, args.key, ui));
      const body = parsedBody(await response.text());
      const settlementHeader = response.headers.get("payment-response");
      const settlement = settlementHeader ? decodePaymentResponseHeader(settlementHeader) : null;
      const success = settlement?.success === true;
      const checked = success ? await checkReceipt(response, receiptContext(url, paid, settlement)) : null;
      const result = {
        status: response.status,
        paid: success && paid ? { amountAtomic: paid.amountAtomic, usd: paid.usd, asset: paid.asset } : null,
        transaction: settlement?.transaction ?? null,
        receipt: checked?.receipt ?? null,
        offer: checked?.offer ?? null,
        deduped: response.headers.get("x-payment-deduped") === "true",
        requestId: response.headers.get("x-request-id"),
        body,
      };
      ui.info(`HTTP ${result.status}${result.requestId ? ` (${result.requestId})` : ""}`);
      if (result.paid) ui.success(`paid $${result.paid.usd}, tx ${result.transaction}`);
      if (checked) reportChecks(ui, checked);
      ui.print(typeof body === "string" ? body : JSON.stringify(body, null, 2));
      if (response.status < 400) return result;
      // --json: the one object is the result (its status says what failed); otherwise a ✖ line.
      const refused = paid !== null && response.status === 402;
      if (args.json) {
        process.exitCode = EXIT.failure;
        return result;
      }
      const reason = refusal(response, body);
      const what = refused ? `the payment was refused: ${reason}` : `the API answered ${reason}`;
      throw new CliError(what, EXIT.failure, refused ? "payment_failed" : "http_error");
    });
  },
});
