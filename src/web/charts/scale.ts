// Axis math for the server-rendered SVG charts. Pure.

/** A "nice" axis maximum ≥ max (1, 2, 2.5, 5 × 10^k), at least 1. */
export function niceMax(max: number): number {
  if (!(max > 1)) return 1;
  const exp = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= max) return m * exp;
  return 10 * exp;
}

/** Height in px of `value` on an axis from 0 to `max` drawn `height` px tall. */
export function scaleY(value: number, max: number, height: number): number {
  if (!(max > 0) || !(value > 0)) return 0;
  return Math.min(height, (value / max) * height);
}
