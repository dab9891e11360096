// EgressGateway: the `globalOutbound` of every function isolate (Worker Loader). A plain fetch()
// from creator code arrives here with props the dispatcher set (never the tenant): only hosts in
// the function's allowedHosts pass, and only if they are not private/loopback/metadata targets.
// Redirects are not followed here: a redirect comes back to the code, whose next fetch is checked
// again. Production (Workers for Platforms) uses the outbound Worker in src/outbound/ with the same rule.
import { WorkerEntrypoint } from "cloudflare:workers";
import { egressDenied, egressProblem } from "./egress-policy.ts";

export { egressProblem };

export interface EgressProps {
  slug: string;
  allowedHosts: string[];
}

export class EgressGateway extends WorkerEntrypoint<Env, EgressProps> {
  override async fetch(request: Request): Promise<Response> {
    const problem = egressProblem(request.url, this.ctx.props.allowedHosts);
    if (problem) return egressDenied(problem);
    return fetch(new Request(request, { redirect: "manual" }));
  }
}
