// Request ids: always minted here. A caller's own x-request-id is never trusted as ours
// (it could collide with or impersonate another request in logs and usage dedupe).
export function newRequestId(): string {
  return `req_${crypto.randomUUID().replaceAll("-", "")}`;
}
