// What every platform handler gets besides the request: the bindings, the typed config
// (src/config/env.ts; read it instead of env.X strings), the request id and the clock.
import type { PlatformConfig } from "../config/env.ts";

export interface PlatformContext {
  env: Env;
  ctx: ExecutionContext;
  config: PlatformConfig;
  requestId: string;
  now: number;
}
