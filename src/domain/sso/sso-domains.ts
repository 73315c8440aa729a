import type { Queryable } from '../../store/database.js';
import { qb, row, type Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { validation } from '../errors.js';
import { isUuid } from '../identity/users.js';

/** An organization's email domain (PostHog's OrganizationDomain) with its identity providers. */
/**
 * sso_enforcement: '' = off, otherwise the provider everyone of the domain must use ('saml' or 'oidc');
 * saml_acs_url: the IdP's single sign-on URL (PostHog's name); saml_x509_cert: one or more PEM
 * certificates (several during a rotation); saml_allow_sha1: accept SHA-1 signatures and digests from
 * this IdP; scim_token_issuer_level: the level of the admin who issued the SCIM token, the most it may
 * touch or give.
 */
export type DomainRecord = Selectable<DB['organization_domains']>;

export type SsoProvider = 'saml' | 'oidc';

/** PostHog's has_saml: all three SAML fields set. */
export const hasSaml = (d: DomainRecord) => Boolean(d.saml_entity_id && d.saml_acs_url && d.saml_x509_cert);
export const hasOidc = (d: DomainRecord) => Boolean(d.oidc_issuer && d.oidc_client_id);

export async function findDomainById(q: Queryable, id: string): Promise<DomainRecord | undefined> {
  if (!isUuid(id)) return undefined;
  return row(q, qb.selectFrom('organization_domains').selectAll().where('id', '=', id));
}

export async function findOrganizationDomain(q: Queryable, organizationId: string, id: string): Promise<DomainRecord | undefined> {
  const domain = await findDomainById(q, id);
  return domain?.organization_id === organizationId ? domain : undefined;
}

/** The verified domain an email address belongs to, if any (the part after the last @, any case). */
export async function findVerifiedDomainForEmail(q: Queryable, email: string): Promise<DomainRecord | undefined> {
  const at = email.lastIndexOf('@');
  if (at < 0) return undefined;
  const domain = email.slice(at + 1).trim();
  return row(
    q,
    qb
      .selectFrom('organization_domains')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['domain']), '=', eb.fn('lower', [eb.val(domain)])))
      .where('verified_at', 'is not', null),
  );
}

/** The provider that a verified domain enforces for its users' logins, or null. */
export function enforcedProvider(domain: DomainRecord | undefined): string | null {
  return domain?.verified_at && domain.sso_enforcement ? domain.sso_enforcement : null;
}

/** PostHog's answer to a password login, reset or sign-up for an email whose domain enforces SSO. */
export const ssoEnforcedMessage = (provider: string) => `You can only login with SSO for this account (${provider}).`;

/** Refuses password authentication for an email of a domain that enforces SSO. */
export async function assertPasswordAuthAllowed(q: Queryable, email: string): Promise<void> {
  const provider = enforcedProvider(await findVerifiedDomainForEmail(q, email));
  if (provider) throw validation(ssoEnforcedMessage(provider), null, 'sso_enforced');
}
