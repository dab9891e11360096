// Directory health for the explore cards: success rate and the error budget left under a 99 %
// success objective, from each API's attempts and successes in the window (the score's own
// inputs, creator-linked calls excluded). Pure.

/** The success objective the error budget is measured against. */
export const SUCCESS_OBJECTIVE = 0.99;

export interface ApiHealthRow {
  slug: string;
  directory: string;
  attempts: number;
  successes: number;
  effectivePayers: number;
  weightedPayers: number;
}

export interface DirectoryHealth {
  attempts: number;
  failures: number;
  successRate: number | null;
  /** Share of the error budget not spent yet (0..1); null without attempts. */
  budgetLeft: number | null;
}

export function budgetLeft(attempts: number, failures: number, objective = SUCCESS_OBJECTIVE): number | null {
  if (!(attempts > 0)) return null;
  const allowed = attempts * (1 - objective);
  return Math.max(0, Math.min(1, 1 - failures / allowed));
}

export function directoryHealth(rows: readonly ApiHealthRow[]): Map<string, DirectoryHealth> {
  const sums = new Map<string, { attempts: number; successes: number }>();
  for (const r of rows) {
    const s = sums.get(r.directory) ?? { attempts: 0, successes: 0 };
    s.attempts += r.attempts;
    s.successes += r.successes;
    sums.set(r.directory, s);
  }
  const out = new Map<string, DirectoryHealth>();
  for (const [directory, s] of sums) {
    const failures = Math.max(0, s.attempts - s.successes);
    out.set(directory, {
      attempts: s.attempts,
      failures,
      successRate: s.attempts > 0 ? s.successes / s.attempts : null,
      budgetLeft: budgetLeft(s.attempts, failures),
    });
  }
  return out;
}
