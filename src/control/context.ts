// What every platform handler gets besides the request.
export interface PlatformContext {
  env: Env;
  ctx: ExecutionContext;
  requestId: string;
  now: number;
}
