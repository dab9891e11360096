// DatasetStore: the RPC entrypoint a dataset tenant isolate reads its data through. The props
// (set by the dispatcher, not the tenant) pin it to one R2 key, so a tenant can only read its own.
import { WorkerEntrypoint } from "cloudflare:workers";

export interface DatasetStoreProps {
  key: string;
}

export class DatasetStore extends WorkerEntrypoint<Env, DatasetStoreProps> {
  override async fetch(): Promise<Response> {
    const object = await this.env.ARTIFACTS.get(this.ctx.props.key);
    if (!object) return new Response("dataset not found", { status: 404 });
    return new Response(object.body, { headers: { "content-type": "application/json" } });
  }
}
