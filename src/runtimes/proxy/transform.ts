// Declarative JSON transform for proxy responses: pick (dotted paths) then rename (top-level keys).
// Pure data manipulation, no eval. Applied to an object, or to each object of a top-level array.
import type { ProxyTransform } from "../../config/tenant-config.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pickPaths(source: Record<string, Json>, paths: string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const path of paths) {
    const parts = path.split(".");
    let from: Json | undefined = source;
    for (const part of parts) from = isObject(from) && Object.hasOwn(from, part) ? from[part] : undefined;
    if (from === undefined) continue;
    let into: Record<string, Json> = out;
    parts.forEach((part, i) => {
      if (part === "__proto__" || part === "constructor" || part === "prototype") return;
      if (i === parts.length - 1) into[part] = from as Json;
      else {
        const next = into[part];
        into = isObject(next) ? next : (into[part] = {});
      }
    });
  }
  return out;
}

function one(value: Json, transform: ProxyTransform): Json {
  if (!isObject(value)) return value;
  let out = transform.pick ? pickPaths(value, transform.pick) : value;
  if (transform.rename) {
    const renamed: Record<string, Json> = {};
    for (const [key, v] of Object.entries(out)) {
      const to = Object.hasOwn(transform.rename, key) ? transform.rename[key]! : key;
      if (to === "__proto__") continue;
      renamed[to] = v;
    }
    out = renamed;
  }
  return out;
}

export function applyTransform(value: unknown, transform: ProxyTransform | undefined): unknown {
  if (!transform || (!transform.pick && !transform.rename)) return value;
  const json = value as Json;
  return Array.isArray(json) ? json.map((item) => one(item, transform)) : one(json, transform);
}
