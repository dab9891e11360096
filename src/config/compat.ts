// The compatibility date tenant code runs under, locally (Worker Loader) and in production
// (the script uploaded by `claw publish`): one constant so the two can never drift.
export const TENANT_COMPATIBILITY_DATE = "2026-10-01";
