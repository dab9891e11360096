// Rate limit of the MCP endpoints themselves (docs/ARCHITECTURE.md §12): a fixed one-minute
// window per caller (IP hash) in this isolate, in front of the protocol work (tools/list, search).
// Tool calls that reach a tenant are also metered by the TenantMeter like HTTP calls; this limit
// only keeps one caller from flooding the MCP front door of an isolate. Bounded memory: windows
// from a past minute are dropped when the map grows.
export const MCP_REQUESTS_PER_MINUTE = 600;
const MAX_CALLERS = 10_000;

const windows = new Map<string, { minute: number; count: number }>();

/** null when admitted, else the seconds until the caller's window resets. */
export function admitMcpRequest(caller: string, now: number, limit = MCP_REQUESTS_PER_MINUTE): number | null {
  const minute = Math.floor(now / 60_000);
  let w = windows.get(caller);
  if (!w || w.minute !== minute) {
    if (windows.size >= MAX_CALLERS) {
      for (const [key, value] of windows) if (value.minute !== minute) windows.delete(key);
      if (windows.size >= MAX_CALLERS) windows.clear();
    }
    w = { minute, count: 0 };
    windows.set(caller, w);
  }
  w.count += 1;
  return w.count > limit ? Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)) : null;
}
