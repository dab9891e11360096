// Fixed clock shared by the pure payment-lifecycle tests: NOW, a validBefore ahead and one expired.

export const NOW = Date.UTC(2027, 0, 15, 12, 0, 0);
export const FUTURE = NOW / 1000 + 300; // validBefore 5 min ahead
export const PAST = NOW / 1000 - 600; // expired 10 min ago
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
