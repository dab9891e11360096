// One typed method per control-plane route the CLI uses (docs/ARCHITECTURE.md §8), so commands
// never build paths or guess response shapes. Transport and errors: cli/api/client.ts.
import { ApiClient, type ApiOptions } from "./client.ts";
import type {
  ApiDetailBody,
  DeployResponse,
  Earnings,
  KeyCreated,
  KeyList,
  KeyRevoked,
  Leaderboard,
  Me,
  PlatformInfo,
  PublishResponse,
  TenantDeleted,
  TenantDetail,
  TenantList,
} from "./types.ts";

const tenantPath = (slug: string) => `/v1/tenants/${encodeURIComponent(slug)}`;

export class PlatformApi {
  readonly client: ApiClient;
  constructor(client: ApiClient) {
    this.client = client;
  }

  static fromEnv(): PlatformApi {
    return new PlatformApi(ApiClient.fromEnv());
  }

  get apiUrl(): string {
    return this.client.apiUrl;
  }

  requireKey(): void {
    this.client.requireKey();
  }

  me(): Promise<Me> {
    return this.client.request<Me>("/v1/me");
  }
  platformInfo(): Promise<PlatformInfo> {
    return this.client.request<PlatformInfo>("/v1/platform", { auth: false });
  }

  listTenants(): Promise<TenantList> {
    return this.client.request<TenantList>("/v1/tenants");
  }
  getTenant(slug: string): Promise<TenantDetail> {
    return this.client.request<TenantDetail>(tenantPath(slug));
  }
  deleteTenant(slug: string): Promise<TenantDeleted> {
    return this.client.request<TenantDeleted>(tenantPath(slug), { method: "DELETE" });
  }
  deploy(slug: string, form: FormData, onUploadProgress?: ApiOptions["onUploadProgress"]): Promise<DeployResponse> {
    return this.client.request<DeployResponse>(`${tenantPath(slug)}/deployments`, {
      method: "POST",
      form,
      ...(onUploadProgress ? { onUploadProgress } : {}),
    });
  }
  publish(slug: string, dryRun: boolean): Promise<PublishResponse> {
    return this.client.request<PublishResponse>(`${tenantPath(slug)}/publish`, { method: "POST", json: { dryRun } });
  }
  earnings(slug: string, limit: number): Promise<Earnings> {
    return this.client.request<Earnings>(`${tenantPath(slug)}/earnings`, { query: { limit } });
  }

  listKeys(): Promise<KeyList> {
    return this.client.request<KeyList>("/v1/keys");
  }
  createKey(body: { name?: string; scopes?: string[] }): Promise<KeyCreated> {
    return this.client.request<KeyCreated>("/v1/keys", { method: "POST", json: body });
  }
  revokeKey(id: string): Promise<KeyRevoked> {
    return this.client.request<KeyRevoked>(`/v1/keys/${encodeURIComponent(id)}`, { method: "DELETE" });
  }

  leaderboard(query: { window: string; top: string; directory?: string; q?: string }): Promise<Leaderboard> {
    return this.client.request<Leaderboard>("/v1/leaderboard", { auth: false, query });
  }
  apiDetail(slug: string): Promise<ApiDetailBody> {
    return this.client.request<ApiDetailBody>(`/v1/apis/${encodeURIComponent(slug)}`, { auth: false });
  }
}
