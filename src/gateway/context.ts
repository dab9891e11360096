// What every phase of a call to a tenant gets: the bindings, the typed config, how the call arrived
// (HTTP unless the MCP server says so), and the request's
// own id and start time (the meter's windows and the recorded latency are measured from it).
import type { PlatformConfig } from "../config/env.ts";
import type { Transport } from "../../objects/meter/types.ts";

export interface CallContext {
  env: Env;
  ctx: ExecutionContext;
  config: PlatformConfig;
  requestId: string;
  startedAt: number;
  /**
   * How the call arrived: an MCP tool call (src/mcp) sets "mcp"; absent is plain HTTP. Folded into
   * aggregated usage and raw telemetry (docs/ARCHITECTURE.md §14).
   */
  transport?: Transport;
}
