import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { Queryable } from '../store/database.js';

/** How long an AuthnRequest we issued may be answered. */
export const SAML_REQUEST_TTL_MS = 10 * 60_000;

/**
 * node-saml's request-id cache over the `sso_requests` table, so every node sees the AuthnRequests
 * any node issued. One instance per domain and per response being validated: ids are looked up
 * only among that domain's SAML requests.
 *
 * node-saml removes a request as it validates, on its refusals too. Here nothing a response does
 * before it is accepted uses the request up: a forged, broken or misdelivered response naming a
 * request (its id is in the login URL) must not cancel the login of the browser that started it.
 * The request is used up by consume(), once the response is accepted in every respect (a
 * DELETE … RETURNING is atomic: of two concurrent responses to one request, one consumes it).
 */
export class SamlRequestCache implements CacheProvider {
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

  /** node-saml's removal during validation: deferred to consume() (see above). */
  async removeAsync(key: string | null): Promise<string | null> {
    return key;
  }

  /**
   * After the response is accepted: true when this response used up the request it answers; false
   * when another response did first (a replay) or the request has expired.
   */
  async consume(key: string): Promise<boolean> {
    if (key.length > 200) return false;
    const [row] = await this.db.query<{ live: boolean }>(
      `DELETE FROM sso_requests WHERE id = $1 AND domain_id = $2 AND provider = 'saml' RETURNING expires_at > now() AS live`,
      [key, this.domainId],
    );
    return row?.live === true;
  }
}
