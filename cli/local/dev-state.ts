// .claw/dev.json (git-ignored, mode 0600): what `claw dev` leaves for the CLI in this checkout.
// Kept across runs: the dev creator's key and the demo payer's key (anvil's well-known account).
// Only while a stack runs: its pid, API URL, facilitator and RPC URLs. Those are removed when the
// stack stops, and a reader checks the pid is alive, so the file never points at a dead stack.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEV_STATE_DIR } from "./paths.ts";

export interface DevState {
  creatorId?: string;
  /** The dev creator's API key (valid against the local state it was made in). */
  key?: string;
  payerKey?: string;
  payerAddress?: string;
  /** Set only while a stack runs: */
  pid?: number;
  apiUrl?: string;
  facilitatorUrl?: string;
  rpcUrl?: string;
  startedAt?: string;
}

const RUNNING_FIELDS = ["pid", "apiUrl", "facilitatorUrl", "rpcUrl", "startedAt"] as const;

export function devStateFile(): string {
  return join(DEV_STATE_DIR, "dev.json");
}

export function readDevState(): DevState {
  const file = devStateFile();
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as DevState) : {};
  } catch {
    return {}; // a torn or hand-edited file: start over rather than refuse to run
  }
}

function writeDevState(state: DevState): void {
  mkdirSync(DEV_STATE_DIR, { recursive: true });
  writeFileSync(devStateFile(), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

export function saveDevState(patch: DevState): void {
  writeDevState({ ...readDevState(), ...patch });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the running-stack fields if they belong to `pid` (or to a dead process). */
export function clearRunning(pid: number): void {
  const state = readDevState();
  if (state.pid === undefined || (state.pid !== pid && isAlive(state.pid))) return;
  for (const field of RUNNING_FIELDS) delete state[field];
  writeDevState(state);
}

/** The stack `claw dev` runs in this checkout right now, if any (its process is alive). */
export interface RunningStack {
  pid: number;
  apiUrl: string | null;
  key: string | null;
}

export function runningStack(state: DevState = readDevState()): RunningStack | null {
  if (state.pid === undefined || !isAlive(state.pid)) return null;
  return { pid: state.pid, apiUrl: state.apiUrl ?? null, key: state.key ?? null };
}
