// What every phase of a call to a tenant gets: the bindings, the typed config, and the request's
// own id and start time (the meter's windows and the recorded latency are measured from it).
import type { PlatformConfig } from "../config/env.ts";

export interface CallContext {
  env: Env;
  ctx: ExecutionContext;
  config: PlatformConfig;
  requestId: string;
  startedAt: number;
  /** How the call arrived: an MCP tool call sets "mcp"; absent is plain HTTP (raw telemetry, §14). */
  transport?: "http" | "mcp";
}
