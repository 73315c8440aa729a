import type { Queryable } from '../store/database.js';
import { validation } from './errors.js';
import { isUuid } from './users.js';

/** An organization's email domain (PostHog's OrganizationDomain) with its identity providers. */
export interface DomainRecord {
  id: string;
  organization_id: string;
  domain: string;
  verification_challenge: string;
  verified_at: Date | null;
  jit_provisioning_enabled: boolean;
  /** '' = off; otherwise the provider everyone of the domain must use: 'saml' or 'oidc'. */
  sso_enforcement: string;
  saml_entity_id: string | null;
  /** The IdP's single sign-on URL (PostHog's name for it). */
  saml_acs_url: string | null;
  /** One or more PEM certificates (several during a rotation). */
  saml_x509_cert: string | null;
  saml_metadata_url: string | null;
  saml_idp_initiated_enabled: boolean;
  /** Accept SHA-1 signatures and digests from this domain's IdP (off: refused). */
  saml_allow_sha1: boolean;
  oidc_issuer: string | null;
  oidc_client_id: string | null;
  oidc_client_secret: string | null;
  group_attribute: string;
  scim_enabled: boolean;
  scim_token_hash: string | null;
  /** The level of the admin who issued the SCIM token: the most it may touch or give. */
  scim_token_issuer_level: number | null;
  created_at: Date;
  updated_at: Date;
}

export type SsoProvider = 'saml' | 'oidc';

/** PostHog's has_saml: all three SAML fields set. */
export const hasSaml = (d: DomainRecord) => Boolean(d.saml_entity_id && d.saml_acs_url && d.saml_x509_cert);
export const hasOidc = (d: DomainRecord) => Boolean(d.oidc_issuer && d.oidc_client_id);

export async function findDomainById(q: Queryable, id: string): Promise<DomainRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await q.query<DomainRecord>('SELECT * FROM organization_domains WHERE id = $1', [id]);
  return row;
}

export async function findOrganizationDomain(q: Queryable, organizationId: string, id: string): Promise<DomainRecord | undefined> {
  const domain = await findDomainById(q, id);
  return domain?.organization_id === organizationId ? domain : undefined;
}

/** The verified domain an email address belongs to, if any (the part after the last @, any case). */
export async function findVerifiedDomainForEmail(q: Queryable, email: string): Promise<DomainRecord | undefined> {
  const at = email.lastIndexOf('@');
  if (at < 0) return undefined;
  const [row] = await q.query<DomainRecord>(
    'SELECT * FROM organization_domains WHERE lower(domain) = lower($1) AND verified_at IS NOT NULL',
    [email.slice(at + 1).trim()],
  );
  return row;
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
