// The Workers for Platforms outbound Worker: every fetch() a tenant script makes in production
// passes through here (the dispatch namespace's `outbound` setting in wrangler.jsonc), with the
// parameters the dispatcher set for that call (never the tenant): its slug and allowedHosts as a
// JSON array. Same rule as the local EgressGateway; redirects are not followed here.
import { egressDenied, egressProblem } from "../runtimes/egress-policy.ts";

export interface OutboundParams {
  slug?: string;
  /** JSON array of host names, set by DispatchRuntime. Missing or unreadable = allow nothing. */
  allowedHosts?: string;
}

function allowedHostsOf(params: OutboundParams): string[] {
  try {
    const parsed: unknown = JSON.parse(params.allowedHosts ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((h): h is string => typeof h === "string") : [];
  } catch {
    return [];
  }
}

export async function handleOutbound(
  request: Request,
  params: OutboundParams,
  forward: (request: Request) => Promise<Response> = fetch,
): Promise<Response> {
  const problem = egressProblem(request.url, allowedHostsOf(params));
  if (problem) return egressDenied(problem);
  return forward(new Request(request, { redirect: "manual" }));
}

export default {
  fetch(request: Request, env: OutboundParams): Promise<Response> {
    return handleOutbound(request, env);
  },
};
