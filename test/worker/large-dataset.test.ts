// A 10 MB CSV deploys through the control plane and is queried through the dispatcher and the
// Worker Loader runtime (cold isolate load included).
import { describe, expect, it } from "vitest";
import { call, createCreator, deployOk, uniqueSlug } from "./helpers.ts";

function tenMegabyteCsv(): { csv: string; rows: number } {
  const countries = ["FR", "DE", "JP", "US", "BR", "IN", "NG", "CA"];
  const lines = ["id,name,country,score,active,joined"];
  let size = lines[0]!.length + 1;
  let id = 0;
  while (size < 10 * 1024 * 1024) {
    id += 1;
    const line = `${id},user-${id.toString(36)}-${"x".repeat(id % 17)},${countries[id % countries.length]},${((id * 7919) % 100000) / 100},${id % 3 === 0},2026-${String((id % 12) + 1).padStart(2, "0")}-01`;
    lines.push(line);
    size += line.length + 1;
  }
  return { csv: lines.join("\n") + "\n", rows: id };
}

describe("large datasets", () => {
  it("deploys a 10 MB CSV and answers filtered, sorted queries on it", async () => {
    const creator = await createCreator();
    const slug = uniqueSlug("big");
    const { csv, rows } = tenMegabyteCsv();
    expect(csv.length).toBeGreaterThan(10 * 1024 * 1024);
    const deployed = await deployOk(creator.key, slug, csv);
    expect(deployed.deployment.rows).toBe(rows);

    const res = await call(`/t/${slug}/v1/records?country=JP&active=true&sort=-score,id&limit=5&fields=id,score`);
    expect(res.status).toBe(200);
    const page = await res.json<any>();
    expect(page.items).toHaveLength(5);
    const scores = page.items.map((r: any) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(page.total).toBeGreaterThan(1000);

    const last = await (await call(`/t/${slug}/v1/records/${rows}`)).json<any>();
    expect(last.id).toBe(rows);
  });
});
