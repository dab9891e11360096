// EgressGateway: the `globalOutbound` of every function isolate (Worker Loader). A plain fetch()
// from creator code arrives here with props the dispatcher set (never the tenant): only hosts in
// the function's allowedHosts pass, and only if they are not private/loopback/metadata targets.
// Redirects are not followed here: a redirect comes back to the code, whose next fetch is checked
// again. Production (Workers for Platforms) uses an outbound Worker with the same rule.
import { WorkerEntrypoint } from "cloudflare:workers";
import { checkUpstreamUrl } from "./proxy/ssrf.ts";

export interface EgressProps {
  slug: string;
  allowedHosts: string[];
}

/** Why a function may not fetch this URL, or null. Pure, shared with tests. */
export function egressProblem(url: string, allowedHosts: readonly string[]): string | null {
  const verdict = checkUpstreamUrl(url);
  if (!verdict.ok) return verdict.reason;
  const host = verdict.url.hostname.toLowerCase().replace(/\.$/, "");
  if (!allowedHosts.includes(host)) return `host ${host} is not in this function's allowedHosts`;
  return null;
}

export class EgressGateway extends WorkerEntrypoint<Env, EgressProps> {
  override async fetch(request: Request): Promise<Response> {
    const problem = egressProblem(request.url, this.ctx.props.allowedHosts);
    if (problem) {
      return Response.json({ error: { code: "egress_denied", message: `outbound request refused: ${problem}` } }, { status: 403, headers: { "x-claw-egress": "denied" } });
    }
    return fetch(new Request(request, { redirect: "manual" }));
  }
}
