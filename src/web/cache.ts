// Rendered pages kept per isolate, keyed by snapshot version + request: a page over the same
// snapshot is the same page, so a hot /explore costs one primary-key read (the version).
const MAX_ENTRIES = 128;
const pages = new Map<string, string>();

export function cachedPage(key: string): string | undefined {
  const hit = pages.get(key);
  if (hit !== undefined) {
    pages.delete(key);
    pages.set(key, hit);
  }
  return hit;
}

export function rememberPage(key: string, html: string): void {
  pages.delete(key);
  pages.set(key, html);
  if (pages.size > MAX_ENTRIES) pages.delete(pages.keys().next().value!);
}
