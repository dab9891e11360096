// Rendered pages kept per isolate, keyed by snapshot version + request: a page over the same
// snapshot is the same page, so a hot /explore costs no storage read at all (the version itself
// is kept for a second, src/public/snapshot-meta.ts). Each page keeps its ETag, computed once.
const MAX_ENTRIES = 128;

export interface CachedPage {
  html: string;
  /** Strong validator of `html`: a hash of the bytes, so equal pages share it across isolates. */
  etag: string;
}

const pages = new Map<string, CachedPage>();

export function cachedPage(key: string): CachedPage | undefined {
  const hit = pages.get(key);
  if (hit !== undefined) {
    pages.delete(key);
    pages.set(key, hit);
  }
  return hit;
}

export function rememberPage(key: string, page: CachedPage): void {
  pages.delete(key);
  pages.set(key, page);
  if (pages.size > MAX_ENTRIES) pages.delete(pages.keys().next().value!);
}
