// What `claw deploy` and `claw wrap` share after the flags are checked: the platform's payment
// defaults (GET /v1/platform) for a paid API that names no network/asset, the one multipart
// upload with progress, and the summary printed afterwards (with the discovery checklist).
import type { PlatformApi } from "../api/platform.ts";
import type { DeployResponse } from "../api/types.ts";
import { CliError } from "../core/errors.ts";
import { uploadProgress } from "../api/upload.ts";
import { clawCommand, plural, type Ui } from "../core/ui.ts";
import { fetchReadiness, readinessText } from "./readiness.ts";
import { anyPaid, type Prices } from "../../src/config/prices.ts";

/**
 * A paid deploy without --network/--asset settles in what the platform it goes to settles in
 * (the local stack's token under `npm start`, USDC in production), not a guess made here.
 */
type Config = Record<string, unknown>;

export async function withPlatformDefaults(api: PlatformApi, config: Config): Promise<Config> {
  const perOperation = anyPaid((config.prices ?? {}) as Prices, 0);
  const paid = (typeof config.priceUsd === "number" && config.priceUsd > 0) || perOperation;
  if (!paid || config.network !== undefined || config.asset !== undefined) return config;
  let info;
  try {
    info = await api.platformInfo();
  } catch (err) {
    if (err instanceof CliError && err.code === "route_not_found") return config; // an older platform
    throw err;
  }
  return { ...config, network: info.network, ...(info.asset ? { asset: info.asset } : {}) };
}

export interface Uploaded extends DeployResponse {
  ms: number;
}

export async function upload(ui: Ui, api: PlatformApi, slug: string, form: FormData, what: string): Promise<Uploaded> {
  ui.start(`Deploying ${what} to ${api.apiUrl} as '${slug}'…`);
  const started = Date.now();
  const progress = ui.json ? undefined : uploadProgress((t) => process.stderr.write(t), Boolean(process.stderr.isTTY));
  const body = await api.deploy(slug, form, progress);
  return { ...body, ms: Date.now() - started };
}

export function callLine(endpoint: string, kind: string): string {
  const url = kind === "dataset" ? `${endpoint}v1/records?limit=3` : endpoint;
  return `${clawCommand()} call '${url}'`;
}

export function report(ui: Ui, kind: string, slug: string, result: Uploaded) {
  const { tenant, deployment } = result;
  const endpoint = tenant.endpoints.path;
  const perOperation = anyPaid(tenant.prices ?? {}, 0);
  const free = !tenant.priceUsd && !perOperation;
  const defaultNote = perOperation ? " by default, per operation: claw show" : "";
  const call = callLine(endpoint, kind);
  const out = {
    slug,
    kind,
    version: deployment.version,
    endpoint,
    hosts: tenant.endpoints.hosts,
    price: { usd: tenant.priceUsd, display: tenant.price.display, atomic: tenant.price.atomic },
    network: tenant.network,
    asset: tenant.price.asset,
    payTo: tenant.payTo ?? null,
    secretNames: tenant.secretNames,
    deployment,
    call,
    ms: result.ms,
  };
  const rows = typeof deployment.rows === "number" ? ` (${plural(deployment.rows, "row")})` : "";
  ui.success(`Deployed ${kind} '${slug}' v${out.version}${rows} in ${result.ms} ms`);
  const asset = out.asset ? `${out.asset.name} ${out.asset.address}` : "no known asset";
  ui.box(
    [
      `Endpoint:  ${endpoint}`,
      ...out.hosts.map((h) => `Host:      ${h}`),
      `Price:     ${free ? "free" : `${out.price.display} per call${defaultNote} → ${out.payTo}`}`,
      ...(free ? [] : [`Paid in:   ${asset} on ${out.network}`]),
      `Try it:    ${call}`,
      `Stats:     ${clawCommand()} stats ${slug}`,
    ].join("\n"),
  );
  return out;
}

/** The summary plus what discovery will see of the new version (`discovery` in --json; null if unknown). */
export async function reportDeployed(ui: Ui, api: PlatformApi, kind: string, slug: string, result: Uploaded) {
  const out = report(ui, kind, slug, result);
  const discovery = await fetchReadiness(api, slug);
  if (discovery && !ui.json) process.stderr.write(readinessText(discovery) + "\n");
  return { ...out, discovery };
}
