// GET /.well-known/402claw-receipt-keys.json (src/receipts/document.ts says what it is): public,
// CORS, cacheable for a minute; the same document on the platform host and on every API.
import type { PlatformConfig } from "../config/env.ts";
import { CORS_HEADERS } from "../public/http.ts";
import { receiptKeysDocument } from "./document.ts";
import { deploymentKeys } from "./signer.ts";

export function receiptKeysResponse(request: Request, config: PlatformConfig): Response {
  const headers = {
    ...CORS_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "cache-control": "public, max-age=60",
  };
  const body = JSON.stringify(receiptKeysDocument(deploymentKeys(config.receipts)));
  return new Response(request.method === "HEAD" ? null : body, { status: 200, headers });
}
