import { OrganizationLevel } from '../../access/levels.js';
import type { Database, Queryable } from '../../store/database.js';
import { SECURITY_SCOPE } from '../activity/security-events.js';
import { recordActivity } from '../activity/activity.js';
import { putInRole } from '../access-control/roles.js';
import { systemActor } from '../actor.js';
import { DomainError } from '../errors.js';
import { addMembership, findMembership, lockOrganization } from '../organizations/organizations.js';
import type { MembershipRecord, OrganizationRecord, UserRecord } from '../records.js';
import { createSession, type Session } from '../identity/sessions.js';
import { applyGroupMapping } from './sso-group-mapping.js';
import type { DomainRecord, SsoProvider } from './sso-domains.js';
import { findUserById, findUserByEmail, insertUser, normalizeEmail, setCurrentContext } from '../identity/users.js';

/** Why an SSO login was refused; each becomes an error page and a security event. */
export type SsoRefusal = 'domain_not_verified' | 'email_domain_mismatch' | 'jit_not_enabled' | 'user_inactive' | 'missing_email' | 'identity_conflict';

export class SsoLoginRefused extends DomainError {
  constructor(
    readonly reason: SsoRefusal,
    detail: string,
  ) {
    super('permission_denied', detail, reason);
    this.name = 'SsoLoginRefused';
  }
}

export interface SsoIdentity {
  domain: DomainRecord;
  provider: SsoProvider;
  /** The IdP's stable subject: SAML NameID, OIDC `sub`. */
  subject: string;
  email: string;
  firstName?: string;
  lastName?: string;
  /** Group names from the IdP (the domain's group attribute); null when the IdP sent none. */
  groups: string[] | null;
}

export interface SsoLoginResult {
  user: UserRecord;
  session: Session;
  organizationId: string;
  /** True when this login created the account (JIT provisioning). */
  provisioned: boolean;
}

/**
 * Completes a validated SSO login (SAML or OIDC): finds the user by (domain, provider, subject),
 * linking or JIT-provisioning them the first time, makes sure they belong to the domain's
 * organization, re-applies the domain's group mapping, and opens a session. One transaction; every
 * change is in the activity log as a system action.
 */
export async function completeSsoLogin(db: Database, identity: SsoIdentity): Promise<SsoLoginResult> {
  const { domain } = identity;
  if (!domain.verified_at) throw new SsoLoginRefused('domain_not_verified', 'This domain has not been verified.');
  const email = identity.email.trim();
  if (!email) throw new SsoLoginRefused('missing_email', 'The identity provider did not send an email address.');
  return db.transaction(async (tx) => {
    const organization = await lockOrganization(tx, domain.organization_id);
    let provisioned = false;
    let user = await userOfIdentity(tx, identity);
    if (!user) {
      if (!emailInDomain(email, domain.domain)) {
        throw new SsoLoginRefused('email_domain_mismatch', `The email address is not in the domain ${domain.domain}.`);
      }
      user = await findUserByEmail(tx, email);
      if (!user) {
        if (!domain.jit_provisioning_enabled) throw jitNotEnabled();
        user = await insertUser(tx, {
          email: normalizeEmail(email),
          firstName: identity.firstName?.trim() || email.split('@')[0]!,
          lastName: identity.lastName?.trim() ?? '',
          passwordHash: null,
        });
        provisioned = true;
      } else if (await hasOtherIdentity(tx, identity, user.id)) {
        // The IdP now sends this address for a different subject (a reassigned mailbox, say): the
        // account stays with the subject it was linked to.
        throw new SsoLoginRefused('identity_conflict', 'This account is linked to a different identity at the identity provider.');
      }
      await tx.query('INSERT INTO sso_identities (domain_id, provider, subject, user_id) VALUES ($1, $2, $3, $4)', [
        domain.id,
        identity.provider,
        identity.subject,
        user.id,
      ]);
      await recordActivity(tx, {
        organizationId: organization.id,
        actor: systemActor,
        scope: 'Organization',
        activity: 'sso_identity_linked',
        itemId: user.id,
        detail: {
          name: `${user.email} linked to ${identity.provider.toUpperCase()} identity of ${domain.domain}`,
          context: { domain_id: domain.id, domain: domain.domain, provider: identity.provider, subject: identity.subject, user_id: user.id },
        },
      });
    }
    if (!user.is_active) throw new SsoLoginRefused('user_inactive', 'This account has been deactivated.');
    const membership = await ensureMembership(tx, domain, organization, user);
    const heldBack = await applyGroupMapping(tx, { domain, organization, user, membership, groups: identity.groups });
    if (heldBack.length > 0) {
      // The login goes on; what the mapping was not allowed to do is on record with it.
      await recordActivity(tx, {
        organizationId: organization.id,
        actor: systemActor,
        scope: SECURITY_SCOPE,
        activity: 'access_denied',
        itemId: user.id,
        detail: {
          name: user.email,
          context: { reason: 'sso group mapping above the ceiling of who saved it', domain: domain.domain, held_back: heldBack },
        },
      });
    }
    await tx.query('UPDATE sso_identities SET last_login_at = now() WHERE domain_id = $1 AND provider = $2 AND subject = $3', [
      domain.id,
      identity.provider,
      identity.subject,
    ]);
    const session = await createSession(tx, user.id, identity.provider);
    return { user, session, organizationId: organization.id, provisioned };
  });
}

const jitNotEnabled = () =>
  new SsoLoginRefused('jit_not_enabled', 'Automatic provisioning is not enabled for this domain. Ask an organization admin for an invite.');

export function emailInDomain(email: string, domain: string): boolean {
  const at = email.lastIndexOf('@');
  return at > 0 && email.slice(at + 1).toLowerCase() === domain.toLowerCase();
}

async function userOfIdentity(tx: Queryable, identity: SsoIdentity): Promise<UserRecord | undefined> {
  const [row] = await tx.query<{ user_id: number }>('SELECT user_id FROM sso_identities WHERE domain_id = $1 AND provider = $2 AND subject = $3', [
    identity.domain.id,
    identity.provider,
    identity.subject,
  ]);
  return row ? findUserById(tx, row.user_id) : undefined;
}

async function hasOtherIdentity(tx: Queryable, identity: SsoIdentity, userId: number): Promise<boolean> {
  const rows = await tx.query('SELECT 1 FROM sso_identities WHERE domain_id = $1 AND provider = $2 AND user_id = $3 AND subject <> $4', [
    identity.domain.id,
    identity.provider,
    userId,
    identity.subject,
  ]);
  return rows.length > 0;
}

/**
 * The user's membership of the domain's organization. Someone not yet a member joins by JIT
 * provisioning (at a pending invite's level, else Member, plus the organization's default role);
 * without JIT they are refused, as PostHog does.
 */
async function ensureMembership(
  tx: Queryable,
  domain: DomainRecord,
  organization: OrganizationRecord & { default_role_id?: string | null },
  user: UserRecord,
): Promise<MembershipRecord> {
  const existing = await findMembership(tx, organization.id, user.id);
  if (existing) return existing;
  if (!domain.jit_provisioning_enabled) throw jitNotEnabled();
  const [invite] = await tx.query<{ id: string; level: number }>(
    `SELECT id, level FROM organization_invites
      WHERE organization_id = $1 AND lower(target_email) = lower($2) AND expires_at > now()
      ORDER BY created_at DESC LIMIT 1`,
    [organization.id, user.email],
  );
  const level = invite?.level ?? OrganizationLevel.MEMBER;
  const membership = await addMembership(tx, systemActor, organization, user, level, 'sso_jit_provisioning');
  if (invite) await tx.query('DELETE FROM organization_invites WHERE organization_id = $1 AND lower(target_email) = lower($2)', [organization.id, user.email]);
  if (organization.default_role_id) {
    const [role] = await tx.query<{ id: string; name: string }>('SELECT id, name FROM roles WHERE id = $1', [organization.default_role_id]);
    if (role) {
      await putInRole(tx, systemActor, organization, role, { membershipId: membership.id, level, user }, { reason: 'default_role' });
    }
  }
  if (!user.current_organization_id) {
    const [project] = await tx.query<{ id: number }>('SELECT id FROM projects WHERE organization_id = $1 AND access_control = false ORDER BY id LIMIT 1', [
      organization.id,
    ]);
    await setCurrentContext(tx, user.id, organization.id, project?.id ?? null);
  }
  return membership;
}
