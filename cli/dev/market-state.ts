// .claw/market.json (git-ignored, mode 0600): the API keys of the demo market's creators, kept
// across runs so a restart on persisted state redeploys their APIs instead of finding the slugs
// taken by creators it can no longer act as. A key that no longer works is replaced.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { DEV_STATE_DIR } from "../local/paths.ts";
import { MARKET_CREATORS, type MarketCreatorRole } from "./market-plan.ts";
import { createCreator, type Creator } from "./traffic.ts";
import type { LocalStack } from "./stack.ts";

const CreatorSchema = v.object({ id: v.string(), key: v.string() });
const StateSchema = v.object({ creators: v.record(v.string(), CreatorSchema) });
type MarketState = v.InferOutput<typeof StateSchema>;

const file = () => join(DEV_STATE_DIR, "market.json");

function readState(): MarketState {
  if (!existsSync(file())) return { creators: {} };
  try {
    const parsed = v.safeParse(StateSchema, JSON.parse(readFileSync(file(), "utf8")));
    return parsed.success ? parsed.output : { creators: {} };
  } catch {
    return { creators: {} }; // torn or hand-edited: make new creators rather than refuse to start
  }
}

function saveCreator(role: MarketCreatorRole, creator: Creator): void {
  const state = readState();
  state.creators[role] = creator;
  mkdirSync(DEV_STATE_DIR, { recursive: true });
  writeFileSync(file(), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

/** The saved creator of that role while its key works on this stack, else a new one (saved). */
export async function ensureMarketCreator(stack: LocalStack, role: MarketCreatorRole): Promise<Creator> {
  const saved = readState().creators[role];
  if (saved) {
    const me = await fetch(`${stack.apiUrl}/v1/me`, { headers: { authorization: `Bearer ${saved.key}` } });
    await me.body?.cancel();
    if (me.status === 200) return saved;
  }
  const created = await createCreator(stack, MARKET_CREATORS[role]);
  saveCreator(role, created);
  return created;
}
