import type { Queryable } from '../store/database.js';

/**
 * Remembers an accepted assertion until it expires, in the database every node shares (ASVS 6.8.3:
 * single use within validity). Returns false when it was already there: a replay. The key names
 * the domain too, so one IdP's ids never collide with another's.
 */
export async function rememberAssertion(db: Queryable, domainId: string, assertionId: string, expiresAt: Date): Promise<boolean> {
  await db.query('DELETE FROM saml_replay_cache WHERE expires_at < now()');
  const rows = await db.query(
    'INSERT INTO saml_replay_cache (assertion_id, expires_at) VALUES ($1, $2) ON CONFLICT (assertion_id) DO NOTHING RETURNING assertion_id',
    [`${domainId}:${assertionId}`, expiresAt],
  );
  return rows.length > 0;
}
