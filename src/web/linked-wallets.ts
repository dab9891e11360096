// The creator-linked wallets of an API, by the rollup's rule (src/public/catalog.ts): every payTo
// of any tenant of the same creator (deleted ones too) and every wallet the creator registered.
// The charts use it to show self-dealt calls apart; the numbers come from the snapshot.
export async function linkedWalletsOf(db: D1Database, slug: string): Promise<Set<string>> {
  const [wallets, payTos] = await db.batch<{ address: string | null }>([
    db
      .prepare("SELECT address FROM creator_wallets WHERE creator_id = (SELECT owner FROM tenants WHERE slug = ?)")
      .bind(slug),
    db
      .prepare(
        `SELECT json_extract(config, '$.payTo') AS address FROM tenants
         WHERE owner = (SELECT owner FROM tenants WHERE slug = ?)`,
      )
      .bind(slug),
  ]);
  const set = new Set<string>();
  for (const r of [...(wallets?.results ?? []), ...(payTos?.results ?? [])])
    if (typeof r.address === "string") set.add(r.address.toLowerCase());
  return set;
}
