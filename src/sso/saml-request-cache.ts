import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { Queryable } from '../store/database.js';

/** How long an AuthnRequest we issued may be answered. */
export const SAML_REQUEST_TTL_MS = 10 * 60_000;

/**
 * node-saml's request-id cache over the `sso_requests` table, so every node sees the AuthnRequests
 * any node issued. One instance per domain and per response being validated: ids are looked up
 * only among that domain's SAML requests, and the instance remembers which ids it consumed itself
 * (a DELETE … RETURNING is atomic: of two concurrent responses to one request, one consumes it).
 */
export class SamlRequestCache implements CacheProvider {
  private readonly consumed = new Set<string>();
  /** The id of the last request saved through this instance (the AuthnRequest just issued). */
  lastSaved: string | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly domainId: string,
  ) {}

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const createdAt = Date.now();
    // Expired requests of any domain are dropped as new ones are made.
    await this.db.query(`DELETE FROM sso_requests WHERE provider = 'saml' AND expires_at < now()`);
    const rows = await this.db.query(
      `INSERT INTO sso_requests (id, domain_id, provider, data, expires_at)
       VALUES ($1, $2, 'saml', $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [key, this.domainId, JSON.stringify({ instant: value }), new Date(createdAt + SAML_REQUEST_TTL_MS)],
    );
    if (rows.length > 0) this.lastSaved = key;
    return rows.length > 0 ? { value, createdAt } : null;
  }

  async getAsync(key: string): Promise<string | null> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 200) return null;
    const [row] = await this.db.query<{ data: { instant?: unknown } }>(
      `SELECT data FROM sso_requests WHERE id = $1 AND domain_id = $2 AND provider = 'saml' AND expires_at > now()`,
      [key, this.domainId],
    );
    return row && typeof row.data?.instant === 'string' ? row.data.instant : null;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (!key || key.length > 200) return null;
    const [row] = await this.db.query<{ id: string }>(`DELETE FROM sso_requests WHERE id = $1 AND domain_id = $2 AND provider = 'saml' RETURNING id`, [
      key,
      this.domainId,
    ]);
    if (!row) return null;
    this.consumed.add(key);
    return key;
  }

  /**
   * After a successful validation: true when this response consumed the request it answers, either
   * inside node-saml or now. False means another response consumed it first (a replay).
   */
  async consume(key: string): Promise<boolean> {
    if (this.consumed.has(key)) return true;
    return (await this.removeAsync(key)) !== null;
  }
}
