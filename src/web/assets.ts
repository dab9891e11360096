// Self-hosted assets of the web pages (docs/ARCHITECTURE.md §13): the stylesheet, the small
// progressive-enhancement script and the icon, served by the dispatcher at /assets/:name. URLs
// carry a content hash (?v=) so they can be cached immutably and change when the content does.
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import { STYLE_CSS } from "./assets/style.ts";
import { APP_JS, FAVICON_SVG } from "./assets/app-script.ts";

interface Asset {
  body: string;
  type: string;
}

const ASSETS: Readonly<Record<string, Asset>> = {
  "style.css": { body: STYLE_CSS, type: "text/css; charset=utf-8" },
  "app.js": { body: APP_JS, type: "text/javascript; charset=utf-8" },
  "favicon.svg": { body: FAVICON_SVG, type: "image/svg+xml" },
};

/** FNV-1a over the UTF-16 code units, hex: a cache-busting version, not a security hash. */
export function contentVersion(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

const versions = new Map(Object.entries(ASSETS).map(([name, a]) => [name, contentVersion(a.body)]));

export function assetUrl(name: keyof typeof ASSETS & string): string {
  return `/assets/${name}?v=${versions.get(name) ?? "0"}`;
}

export function serveAsset(request: IRequest): Response {
  const name = request.params.name ?? "";
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) throw new ApiError(404, "asset_not_found", `no asset '${name.slice(0, 60)}'`);
  const versioned = new URL(request.url).searchParams.get("v") === versions.get(name);
  return new Response(asset.body, {
    headers: {
      "content-type": asset.type,
      "cache-control": versioned ? "public, max-age=31536000, immutable" : "public, max-age=300",
      "x-content-type-options": "nosniff",
      "cross-origin-resource-policy": "same-origin",
    },
  });
}
