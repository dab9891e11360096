// Placeholder entry replaced by the dispatcher.
export { TenantMeter } from "../objects/tenant-meter.ts";
export default { fetch: () => new Response("ok") };
