import { X509Certificate } from 'node:crypto';
import { VERIFICATION_REQUIRED, VERIFICATION_REQUIRED_CODE } from '../../access/messages.js';
import type { Database, Queryable } from '../../store/database.js';
import { PgCode, pgErrorCode } from '../../store/database.js';
import { qb, row, rows, sql } from '../../store/query-builder.js';
import { recordActivity, type Change } from '../activity/activity.js';
import { systemActor, type Actor } from '../actor.js';
import { notFound, validation } from '../errors.js';
import { lockAsAdmin, lockOrganization, requireAdminMembership } from '../organizations/organizations.js';
import type { OrganizationRecord } from '../records.js';
import { findOrganizationDomain, hasOidc, hasSaml, type DomainRecord } from './sso-domains.js';
import { randomBase62 } from '../identity/tokens.js';
import { isUuid } from '../identity/users.js';
import { fetchIdpMetadata, parseIdpMetadata } from '../../sso/saml-metadata.js';
import type { OutboundPolicy } from '../../net/outbound-policy.js';

/** PostHog's messages. */
export const INVALID_DOMAIN = 'Please enter a valid domain or subdomain name.';
export const DOMAIN_TAKEN = 'domain with this domain already exists.';

/** sso_enforcement values Warden can honour ('' = off). */
export const ENFORCEABLE_PROVIDERS = ['', 'saml', 'oidc'] as const;

/** The TXT record that proves control of a domain (PostHog's name, so existing records keep working). */
export const challengeRecordName = (domain: string) => `_posthog-challenge.${domain}`;

const HOSTNAME = /^(?=.{4,128}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

export interface DomainPatch {
  jit_provisioning_enabled?: boolean;
  sso_enforcement?: string;
  saml_entity_id?: string | null;
  saml_acs_url?: string | null;
  saml_x509_cert?: string | null;
  saml_metadata_url?: string | null;
  saml_idp_initiated_enabled?: boolean;
  saml_allow_sha1?: boolean;
  oidc_issuer?: string | null;
  oidc_client_id?: string | null;
  oidc_client_secret?: string | null;
  group_attribute?: string;
}

/** What the patch may set without verification, and what only a verified domain may set. */
const NEEDS_VERIFICATION = ['jit_provisioning_enabled', 'sso_enforcement'] as const;
const PATCHABLE = [
  'jit_provisioning_enabled',
  'sso_enforcement',
  'saml_entity_id',
  'saml_acs_url',
  'saml_x509_cert',
  'saml_metadata_url',
  'saml_idp_initiated_enabled',
  'saml_allow_sha1',
  'oidc_issuer',
  'oidc_client_id',
  'oidc_client_secret',
  'group_attribute',
] as const satisfies ReadonlyArray<keyof DomainPatch & keyof DomainRecord>;
/** Never written to the activity log in clear. */
const SECRET_FIELDS = new Set<string>(['oidc_client_secret']);

/** The organization, locked, when the actor administers it (level >= Admin). */
export async function adminOf(tx: Queryable, actor: Actor & { userId: number }, organizationId: string): Promise<OrganizationRecord> {
  return (await adminAuthority(tx, actor, organizationId)).organization;
}

/** The organization (locked) and the admin's level: the ceiling of what they may grant through it. */
export const adminAuthority = (tx: Queryable, actor: Actor & { userId: number }, organizationId: string) => lockAsAdmin(tx, organizationId, actor.userId);

export function normalizeDomainName(raw: unknown): string {
  const domain = typeof raw === 'string' ? raw.trim().toLowerCase().replace(/\.$/, '') : '';
  if (!HOSTNAME.test(domain)) throw validation(INVALID_DOMAIN, 'domain');
  return domain;
}

export async function listDomains(q: Queryable, organizationId: string): Promise<DomainRecord[]> {
  return rows(q, qb.selectFrom('organization_domains').selectAll().where('organization_id', '=', organizationId).orderBy('domain'));
}

export async function getDomain(q: Queryable, organizationId: string, domainId: string): Promise<DomainRecord> {
  const domain = await findOrganizationDomain(q, organizationId, domainId);
  if (!domain) throw notFound();
  return domain;
}

export async function lockDomain(tx: Queryable, organizationId: string, domainId: string): Promise<DomainRecord> {
  await getDomain(tx, organizationId, domainId);
  return (await row(tx, qb.selectFrom('organization_domains').selectAll().where('id', '=', domainId).forUpdate()))!;
}

export async function createDomain(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, rawDomain: unknown): Promise<DomainRecord> {
  const organization = await adminOf(tx, actor, organizationId);
  const domain = normalizeDomainName(rawDomain);
  // A claim is exclusive only once verified: an unverified one elsewhere blocks nobody, and whether
  // another organization has claimed (or verified) the name is not said here (only a verification
  // attempt by whoever controls the domain's DNS learns that).
  const [taken] = await tx.query('SELECT 1 FROM organization_domains WHERE organization_id = $1 AND lower(domain) = $2', [organizationId, domain]);
  if (taken) throw validation(DOMAIN_TAKEN, 'domain', 'unique');
  let row: DomainRecord;
  try {
    [row] = (await tx.query<DomainRecord>(
      'INSERT INTO organization_domains (organization_id, domain, verification_challenge) VALUES ($1, $2, $3) RETURNING *',
      [organizationId, domain, randomBase62(32)],
    )) as [DomainRecord];
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) throw validation(DOMAIN_TAKEN, 'domain', 'unique');
    throw err;
  }
  await record(tx, actor, organization, row, 'domain_created', [
    { type: 'OrganizationDomain', action: 'created', field: 'domain', before: null, after: domain },
  ]);
  return row;
}

/** OIDC providers are reached over https only (src/sso/oidc-http.ts): an http issuer is refused when it is set, not at the first sign-in. */
function httpsIssuer(text: string): string {
  const url = httpUrl(text, 'oidc_issuer');
  if (!url.startsWith('https://')) throw validation('The OIDC issuer must be an https:// URL.', 'oidc_issuer');
  return url;
}

/**
 * Updates a domain's SSO settings. JIT provisioning and enforcement need a verified domain
 * (PostHog's rule), and enforcement needs the enforced provider configured, so nobody is locked
 * out. Turning enforcement on ends the password sessions of the domain's users.
 */
export async function updateDomain(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  domainId: string,
  patch: DomainPatch,
): Promise<DomainRecord> {
  const organization = await adminOf(tx, actor, organizationId);
  const before = await lockDomain(tx, organizationId, domainId);
  const next: DomainRecord = { ...before };
  for (const field of PATCHABLE) {
    if (patch[field] === undefined) continue;
    if (!before.verified_at && (NEEDS_VERIFICATION as readonly string[]).includes(field) && patch[field] !== before[field]) {
      throw validation(VERIFICATION_REQUIRED, field, VERIFICATION_REQUIRED_CODE);
    }
    (next as unknown as Record<string, unknown>)[field] = normalizeField(field, patch[field]);
  }
  if (!(ENFORCEABLE_PROVIDERS as readonly string[]).includes(next.sso_enforcement)) {
    throw validation(`"${next.sso_enforcement}" is not a valid choice.`, 'sso_enforcement', 'invalid_choice');
  }
  if (next.sso_enforcement === 'saml' && !hasSaml(next)) {
    throw validation('Configure SAML for this domain before enforcing it.', 'sso_enforcement');
  }
  if (next.sso_enforcement === 'oidc' && !hasOidc(next)) {
    throw validation('Configure OIDC for this domain before enforcing it.', 'sso_enforcement');
  }
  const changes: Change[] = [];
  for (const field of PATCHABLE) {
    if (JSON.stringify(before[field]) === JSON.stringify(next[field])) continue;
    const secret = SECRET_FIELDS.has(field);
    changes.push({
      type: 'OrganizationDomain',
      action: 'changed',
      field,
      before: secret ? (before[field] ? '********' : null) : before[field],
      after: secret ? (next[field] ? '********' : null) : next[field],
    });
  }
  if (changes.length === 0) return before;
  const assignments = PATCHABLE.map((field, i) => `${field} = $${i + 2}`).join(', ');
  const [after] = await tx.query<DomainRecord>(`UPDATE organization_domains SET ${assignments}, updated_at = now() WHERE id = $1 RETURNING *`, [
    domainId,
    ...PATCHABLE.map((field) => next[field]),
  ]);
  const endedSessions = !before.sso_enforcement && after!.sso_enforcement ? await endPasswordSessions(tx, after!.domain) : 0;
  await record(tx, actor, organization, after!, 'domain_updated', changes, endedSessions ? { password_sessions_ended: endedSessions } : {});
  return after!;
}

function normalizeField(field: (typeof PATCHABLE)[number], value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  switch (field) {
    case 'saml_acs_url':
    case 'saml_metadata_url':
      return text === '' ? null : httpUrl(text, field);
    case 'oidc_issuer':
      return text === '' ? null : httpsIssuer(text);
    case 'saml_x509_cert':
      return text === '' ? null : normalizeCertificates(text);
    case 'group_attribute':
      if (!text) throw validation('This field may not be blank.', field, 'blank');
      return text;
    case 'sso_enforcement':
      return text;
    default:
      return text === '' ? null : text;
  }
}

function httpUrl(text: string, attr: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw validation('Enter a valid URL.', attr);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw validation('Enter a valid URL.', attr);
  return url.toString();
}

/**
 * One or more certificates, as PEM or bare base64 (as IdP consoles show them), normalised to PEM
 * blocks. Each must parse as an X.509 certificate.
 */
export function normalizeCertificates(text: string): string {
  const blocks = text.includes('-----BEGIN CERTIFICATE-----')
    ? [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => m[1]!)
    : [text];
  const pems = blocks.map((block) => {
    const body = block.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw validation('Enter a valid X.509 certificate (PEM or base64).', 'saml_x509_cert');
    const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----`;
    try {
      new X509Certificate(pem);
    } catch {
      throw validation('Enter a valid X.509 certificate (PEM or base64).', 'saml_x509_cert');
    }
    return pem;
  });
  if (pems.length === 0 || pems.length > 5) throw validation('Enter from one to five X.509 certificates.', 'saml_x509_cert');
  return pems.join('\n');
}

/**
 * SAML settings from the IdP's metadata (XML given, or fetched from its URL), merged into a patch.
 * Runs before the update's transaction: fetching is network I/O.
 */
export async function withSamlMetadata(patch: DomainPatch & { saml_metadata_xml?: string }, outbound: OutboundPolicy): Promise<DomainPatch> {
  const { saml_metadata_xml, ...rest } = patch;
  let xml = saml_metadata_xml?.trim() || undefined;
  if (!xml && rest.saml_metadata_url) xml = await fetchIdpMetadata(httpUrl(rest.saml_metadata_url.trim(), 'saml_metadata_url'), outbound);
  if (!xml) return rest;
  const metadata = parseIdpMetadata(xml);
  return {
    ...rest,
    saml_entity_id: metadata.entityId,
    saml_acs_url: metadata.ssoUrl,
    saml_x509_cert: metadata.certificates.join('\n'),
  };
}

/** Ends the password sessions of every user whose email is in the domain; returns how many. */
async function endPasswordSessions(tx: Queryable, domain: string): Promise<number> {
  const rows = await tx.query(
    `DELETE FROM sessions WHERE auth_method = 'password' AND user_id IN (
       SELECT id FROM users WHERE lower(regexp_replace(email, '^.*@', '')) = lower($1)) RETURNING user_id`,
    [domain],
  );
  return rows.length;
}

export async function deleteDomain(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, domainId: string): Promise<void> {
  const organization = await adminOf(tx, actor, organizationId);
  const domain = await lockDomain(tx, organizationId, domainId);
  await tx.query('DELETE FROM organization_domains WHERE id = $1', [domainId]);
  await record(tx, actor, organization, domain, 'domain_deleted', [
    { type: 'OrganizationDomain', action: 'deleted', field: 'domain', before: domain.domain, after: null },
  ]);
}

/** Looks up the domain's challenge TXT record; resolves to the strings found ([] when none). */
export type TxtLookup = (name: string) => Promise<string[]>;

/**
 * `POST .../domains/:id/verify/`: the domain is verified when its challenge TXT record carries the
 * verification challenge. Like PostHog, an unverified result is not an error: the domain comes
 * back with is_verified false. The lookup runs outside any transaction.
 */
export async function verifyDomain(
  db: Database,
  actor: Actor & { userId: number },
  organizationId: string,
  domainId: string,
  lookup: TxtLookup,
): Promise<DomainRecord> {
  await requireAdminMembership(db, organizationId, actor.userId);
  const current = await getDomain(db, organizationId, domainId);
  if (current.verified_at) return current;
  const found = await lookup(challengeRecordName(current.domain));
  if (!found.includes(current.verification_challenge)) return current;
  return db.transaction(async (tx) => {
    const organization = await adminOf(tx, actor, organizationId);
    const domain = await lockDomain(tx, organizationId, domainId);
    return markVerified(tx, actor, organization, domain, 'dns_txt');
  });
}

/**
 * For air-gapped installs: an instance operator marks a domain verified from the CLI. Several
 * organizations may have claimed it unverified: then the operator names the organization.
 */
export async function markDomainVerifiedByOperator(db: Database, domainName: string, organizationId?: string): Promise<DomainRecord> {
  const name = normalizeDomainName(domainName);
  if (organizationId !== undefined && !isUuid(organizationId)) throw notFound(`No organization ${organizationId}.`);
  return db.transaction(async (tx) => {
    const inOrganization = organizationId ?? null;
    const claims = await rows(
      tx,
      qb
        .selectFrom('organization_domains')
        .selectAll()
        .where((eb) => eb(eb.fn('lower', ['domain']), '=', name))
        .where(sql<boolean>`(${inOrganization}::uuid IS NULL OR organization_id = ${inOrganization})`)
        .orderBy('created_at')
        .forUpdate(),
    );
    if (claims.length === 0) throw notFound(`No organization has added the domain ${name}${organizationId ? ` (organization ${organizationId})` : ''}.`);
    if (claims.length > 1) {
      throw validation(
        `${claims.length} organizations have added ${name}: name one with --organization (${claims.map((c) => c.organization_id).join(', ')}).`,
        'organization',
      );
    }
    const domain = claims[0]!;
    if (domain.verified_at) return domain;
    const organization = await lockOrganization(tx, domain.organization_id);
    return markVerified(tx, systemActor, organization, domain, 'operator');
  });
}

export const DOMAIN_VERIFIED_ELSEWHERE = 'This domain is already verified by another organization.';

async function markVerified(tx: Queryable, actor: Actor, organization: OrganizationRecord, domain: DomainRecord, method: string): Promise<DomainRecord> {
  const [elsewhere] = await tx.query('SELECT 1 FROM organization_domains WHERE lower(domain) = lower($1) AND verified_at IS NOT NULL AND id <> $2', [
    domain.domain,
    domain.id,
  ]);
  if (elsewhere) throw validation(DOMAIN_VERIFIED_ELSEWHERE, 'domain', 'unique');
  let after: DomainRecord | undefined;
  try {
    [after] = await tx.query<DomainRecord>('UPDATE organization_domains SET verified_at = now(), updated_at = now() WHERE id = $1 RETURNING *', [domain.id]);
  } catch (err) {
    // Two organizations verifying the same name at once: the unique index lets one through.
    if (pgErrorCode(err) === PgCode.uniqueViolation) throw validation(DOMAIN_VERIFIED_ELSEWHERE, 'domain', 'unique');
    throw err;
  }
  await record(
    tx,
    actor,
    organization,
    after!,
    'domain_verified',
    [{ type: 'OrganizationDomain', action: 'changed', field: 'verified_at', before: null, after: after!.verified_at }],
    { method },
  );
  return after!;
}

async function record(
  tx: Queryable,
  actor: Actor,
  organization: OrganizationRecord,
  domain: DomainRecord,
  activity: string,
  changes: Change[],
  context: Record<string, unknown> = {},
): Promise<void> {
  await recordActivity(tx, {
    organizationId: organization.id,
    actor,
    scope: 'Organization',
    activity,
    itemId: domain.id,
    detail: { name: domain.domain, changes, context: { organization_name: organization.name, domain: domain.domain, ...context } },
  });
}

/** What the organization object reports about SSO: any enforcing verified domain, and its provider. */
export async function ssoEnforcementOf(q: Queryable, organizationId: string): Promise<string | null> {
  const [row] = await q.query<{ sso_enforcement: string }>(
    `SELECT sso_enforcement FROM organization_domains
      WHERE organization_id = $1 AND verified_at IS NOT NULL AND sso_enforcement <> ''
      ORDER BY domain LIMIT 1`,
    [organizationId],
  );
  return row?.sso_enforcement ?? null;
}
