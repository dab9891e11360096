// The egress rule for tenant code, shared by the local Worker Loader gateway (EgressGateway)
// and the production Workers for Platforms outbound Worker (src/outbound/): only hosts in the
// function's allowedHosts, and never private, loopback, link-local or metadata targets.
import { checkUpstreamUrl } from "./proxy/ssrf.ts";

/** Why a function may not fetch this URL, or null. */
export function egressProblem(url: string, allowedHosts: readonly string[]): string | null {
  const verdict = checkUpstreamUrl(url);
  if (!verdict.ok) return verdict.reason;
  const host = verdict.url.hostname.toLowerCase().replace(/\.$/, "");
  if (!allowedHosts.includes(host)) return `host ${host} is not in this function's allowedHosts`;
  return null;
}

export function egressDenied(problem: string): Response {
  return Response.json(
    { error: { code: "egress_denied", message: `outbound request refused: ${problem}` } },
    { status: 403, headers: { "x-claw-egress": "denied" } },
  );
}
