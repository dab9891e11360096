// GET /v1/platform (public): the payment defaults of this deployment, so a client (the CLI's
// `claw deploy`/`claw wrap`) can fill in network and asset that settle here. Without it the CLI
// would assume Base Sepolia USDC, which does not exist on the local chain `claw dev` runs.
// PLATFORM_NETWORK / PLATFORM_ASSET (JSON) come from the environment; defaults: the schema's
// default network and its known asset (src/config/assets.ts). Routed in src/platform/router.ts.
import * as v from "valibot";
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { json } from "../http/json.ts";
import { AssetSchema, type Asset } from "../config/tenant-config.ts";
import { assetFor } from "../config/assets.ts";
import type { PlatformContext } from "../control/context.ts";

const DEFAULT_NETWORK = "eip155:84532";
const NetworkSchema = v.pipe(v.string(), v.regex(/^eip155:\d+$/));

export interface PlatformDefaults {
  network: string;
  asset: Asset | null;
}

/** Pure: the defaults from the two optional vars; a malformed value is the operator's error. */
type PlatformVars = { PLATFORM_NETWORK?: string | undefined; PLATFORM_ASSET?: string | undefined };

export function platformDefaults(vars: PlatformVars): PlatformDefaults {
  const network = vars.PLATFORM_NETWORK?.trim() || DEFAULT_NETWORK;
  if (!v.is(NetworkSchema, network)) throw misconfigured("PLATFORM_NETWORK is not a CAIP-2 eip155 id");
  const raw = vars.PLATFORM_ASSET?.trim();
  if (!raw) return { network, asset: assetFor(network, undefined) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw misconfigured("PLATFORM_ASSET is not JSON");
  }
  const asset = v.safeParse(AssetSchema, parsed);
  if (!asset.success) throw misconfigured("PLATFORM_ASSET is not {address, name, version, decimals}");
  return { network, asset: asset.output };
}

function misconfigured(message: string): ApiError {
  return new ApiError(503, "platform_misconfigured", `${message}; the operator must fix this deployment's settings`);
}

export function getPlatformInfo(_request: IRequest, pc: PlatformContext): Response {
  return json({ service: "402claw", ...platformDefaults(pc.env) });
}
