// Repository paths the CLI needs, resolved from this file so the CLI works from any cwd.
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BIN_DIR = join(REPO_ROOT, "node_modules", ".bin");
/** Where `claw dev` keeps its dev creator key; CLAW_DEV_STATE_DIR isolates test runs. */
export const DEV_STATE_DIR = process.env.CLAW_DEV_STATE_DIR ?? join(REPO_ROOT, ".claw");
export const DEMO_DIR = join(REPO_ROOT, "demo");
