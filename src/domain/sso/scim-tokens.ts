/**
 * SCIM bearer tokens: one per domain, stored only as a sha256 hash, shown once when made. Org admins
 * turn SCIM on (making or replacing the token) and off; both are in the activity log, never the
 * token. A SCIM request authenticates with the token of the domain in its path; the domain must be
 * verified and have SCIM on.
 */
import type { Database, Queryable } from '../../store/database.js';
import { qb, row } from '../../store/query-builder.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, validation } from '../errors.js';
import { lockAsAdmin } from '../organizations/organizations.js';
import { maskKeyValue, recordSecurityEvent, type SecurityLog } from '../activity/security-events.js';
import { findOrganizationDomain, type DomainRecord } from './sso-domains.js';
import { randomBase62, safeEqual, sha256Hex } from '../identity/tokens.js';
import { isUuid } from '../identity/users.js';

/** PostHog's message for settings that wait for verification. */
export const SCIM_NEEDS_VERIFICATION = 'This attribute cannot be updated until the domain is verified.';

/** `scim_` + 43 base62 characters from the crypto RNG (over 250 bits). */
export const newScimToken = () => `scim_${randomBase62(43)}`;

async function adminDomain(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, domainId: string) {
  const { organization, level } = await lockAsAdmin(tx, organizationId, actor.userId);
  const domain = await findOrganizationDomain(tx, organizationId, domainId);
  if (!domain) throw notFound();
  return { organization, domain, level };
}

const domainContext = (domain: DomainRecord) => ({ domain_id: domain.id, domain: domain.domain, via: 'scim' });

/** Turns SCIM on for a verified domain with a new token (replacing any earlier one, which stops working at once). */
export async function issueScimToken(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  domainId: string,
): Promise<{ domain: DomainRecord; token: string }> {
  const { domain, level } = await adminDomain(tx, actor, organizationId, domainId);
  if (!domain.verified_at) throw validation(SCIM_NEEDS_VERIFICATION, 'scim_enabled', 'verification_required');
  const token = newScimToken();
  // The token acts for its issuer: it may touch and give no more than the issuer's level.
  const [updated] = await tx.query<DomainRecord>(
    `UPDATE organization_domains SET scim_enabled = true, scim_token_hash = $2, scim_token_issuer_level = $3, updated_at = now()
      WHERE id = $1 RETURNING *`,
    [domain.id, sha256Hex(token), level],
  );
  const rotated = domain.scim_token_hash !== null;
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: rotated ? 'scim_token_rotated' : 'scim_enabled',
    itemId: domain.id,
    detail: {
      name: domain.domain,
      changes: rotated
        ? [{ type: 'OrganizationDomain', action: 'changed', field: 'scim_token' }]
        : [{ type: 'OrganizationDomain', action: 'changed', field: 'scim_enabled', before: domain.scim_enabled, after: true }],
      context: { ...domainContext(domain), issuer_level: level },
    },
  });
  return { domain: updated!, token };
}

/** Turns SCIM off and forgets the token. Nothing to do (and nothing logged) when it is already off. */
export async function revokeScimToken(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, domainId: string): Promise<void> {
  const { domain } = await adminDomain(tx, actor, organizationId, domainId);
  if (!domain.scim_enabled && domain.scim_token_hash === null) return;
  await tx.query(
    'UPDATE organization_domains SET scim_enabled = false, scim_token_hash = NULL, scim_token_issuer_level = NULL, updated_at = now() WHERE id = $1',
    [domain.id],
  );
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'scim_disabled',
    itemId: domain.id,
    detail: {
      name: domain.domain,
      changes: [{ type: 'OrganizationDomain', action: 'changed', field: 'scim_enabled', before: domain.scim_enabled, after: false }],
      context: domainContext(domain),
    },
  });
}

export type ScimAuthFailure = 'missing_token' | 'unknown_domain' | 'scim_disabled' | 'domain_not_verified' | 'invalid_token';

/**
 * The domain whose SCIM token `presented` is, or the reason it is refused. The presented token is
 * hashed and compared in constant time with the stored hash.
 */
export async function authenticateScimToken(
  q: Queryable,
  domainId: string,
  presented: string | null,
): Promise<{ domain: DomainRecord } | { failure: ScimAuthFailure; domain?: DomainRecord }> {
  const domain = isUuid(domainId) ? await row(q, qb.selectFrom('organization_domains').selectAll().where('id', '=', domainId)) : undefined;
  if (!presented) return { failure: 'missing_token', ...(domain ? { domain } : {}) };
  if (!domain) return { failure: 'unknown_domain' };
  // Hash first, whatever the domain's state: the time taken says nothing about which check failed.
  const matchesHash = safeEqual(sha256Hex(presented), domain.scim_token_hash ?? '0'.repeat(64));
  if (!domain.scim_enabled || domain.scim_token_hash === null) return { failure: 'scim_disabled', domain };
  if (!domain.verified_at) return { failure: 'domain_not_verified', domain };
  if (!matchesHash) return { failure: 'invalid_token', domain };
  return { domain };
}

/** A refused SCIM token as a security event: the domain, the reason and a mask of the token, never the token. */
export async function recordScimAuthFailure(
  db: Database,
  input: { domainId: string; domain?: DomainRecord; failure: ScimAuthFailure; presented: string | null },
  log?: SecurityLog,
): Promise<void> {
  await recordSecurityEvent(
    db,
    {
      activity: 'scim_auth_failed',
      organizationId: input.domain?.organization_id ?? null,
      userId: null,
      itemId: input.domain?.id ?? null,
      name: input.domain?.domain ?? null,
      context: {
        reason: input.failure,
        domain_id: isUuid(input.domainId) ? input.domainId : null,
        ...(input.presented ? { mask: maskKeyValue(input.presented) } : {}),
      },
    },
    log,
  );
}
