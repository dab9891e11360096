import { DurableObject } from "cloudflare:workers";
export class TenantMeter extends DurableObject<Env> {}
