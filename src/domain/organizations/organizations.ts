import { readThrough } from '../../cache/read-through.js';
import type { KeyPolicy } from '../../access/key-policy.js';
import { OrganizationLevel, organizationLevelName } from '../../access/levels.js';
import { INSUFFICIENT_ORG_LEVEL } from '../../access/messages.js';
import { isValidScope } from '../../access/scopes.js';
import type { Queryable } from '../../store/database.js';
import { qb, row, rows } from '../../store/query-builder.js';
import { diffFields, recordActivity } from '../activity/activity.js';
import { validateRetentionDays } from '../activity/activity-retention.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { createProject } from './projects.js';
import type { MembershipRecord, OrganizationRecord, ProjectRecord, UserRecord } from '../records.js';
import { randomBase62 } from '../identity/tokens.js';
import { displayName, isUuid, setCurrentContext } from '../identity/users.js';

export const DEFAULT_PROJECT_NAME = 'Default project';

export function keyPolicyOf(org: OrganizationRecord): KeyPolicy {
  return {
    organizationName: org.name,
    allowedScopes: org.personal_api_keys_allowed_scopes,
    maxLifetimeDays: org.personal_api_keys_max_lifetime_days,
    requireIpRanges: org.require_key_ip_ranges,
  };
}

export async function findOrganization(q: Queryable, id: string): Promise<OrganizationRecord | undefined> {
  return readThrough(
    q,
    'organization',
    id,
    () => row(q, qb.selectFrom('organizations').selectAll().where('id', '=', id)),
    () => [`org:${id}`],
  );
}

/** Locks the organization row: every change to its memberships runs behind this lock. */
export async function lockOrganization(tx: Queryable, id: string): Promise<OrganizationRecord> {
  const org = await row(tx, qb.selectFrom('organizations').selectAll().where('id', '=', id).forUpdate());
  if (!org) throw notFound('Organization not found.');
  return org;
}

export async function findMembership(q: Queryable, organizationId: string, userId: number): Promise<MembershipRecord | undefined> {
  return readThrough(
    q,
    'membership',
    `${organizationId}:${userId}`,
    () => row(q, qb.selectFrom('organization_memberships').selectAll().where('organization_id', '=', organizationId).where('user_id', '=', userId)),
    () => [`org:${organizationId}`],
    (m) => (m.level_expires_at ? new Date(m.level_expires_at).getTime() : null),
  );
}

/** How many owners the organization has: it must never have none. */
export async function countOwners(q: Queryable, organizationId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM organization_memberships WHERE organization_id = $1 AND level = $2', [
    organizationId,
    OrganizationLevel.OWNER,
  ]);
  return row?.n ?? 0;
}

/** Whether a membership is the organization's only owner (whom no demotion or removal may take away). */
export async function isOnlyOwner(q: Queryable, membership: { organization_id: string; level: number }): Promise<boolean> {
  return membership.level === OrganizationLevel.OWNER && (await countOwners(q, membership.organization_id)) <= 1;
}

/** The actor's membership, or PostHog's 404 for organizations the actor is not in. */
export async function requireMembership(q: Queryable, organizationId: string, userId: number): Promise<MembershipRecord> {
  const membership = await findMembership(q, organizationId, userId);
  if (!membership) throw notFound('Organization not found.');
  return membership;
}

/** The acting member's membership, when they are an Admin or Owner: 404 for a non-member, 403 below Admin. */
export async function requireAdminMembership(q: Queryable, organizationId: string, userId: number): Promise<MembershipRecord> {
  const membership = await requireMembership(q, organizationId, userId);
  if (membership.level < OrganizationLevel.ADMIN) throw permissionDenied(INSUFFICIENT_ORG_LEVEL);
  return membership;
}

/**
 * The organization, locked for the change, and the acting admin's level: the ceiling of what they may
 * grant through it (src/access/grant-ceiling.ts). Members below Admin are refused.
 */
export async function lockAsAdmin(q: Queryable, organizationId: string, userId: number): Promise<{ organization: OrganizationRecord; level: number }> {
  const organization = await lockOrganization(q, organizationId);
  const membership = await requireAdminMembership(q, organizationId, userId);
  return { organization, level: membership.level };
}

export async function listOrganizationsOfUser(q: Queryable, userId: number): Promise<Array<OrganizationRecord & { level: number }>> {
  return rows(
    q,
    qb
      .selectFrom('organizations as o')
      .innerJoin('organization_memberships as m', 'm.organization_id', 'o.id')
      .selectAll('o')
      .select('m.level')
      .where('m.user_id', '=', userId)
      .orderBy('m.joined_at')
      .orderBy('o.created_at'),
  );
}

export async function countMembers(q: Queryable, organizationId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM organization_memberships WHERE organization_id = $1', [organizationId]);
  return row?.n ?? 0;
}

function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base || 'organization';
}

async function uniqueSlug(tx: Queryable, name: string): Promise<string> {
  const base = slugify(name);
  const taken = await tx.query('SELECT 1 FROM organizations WHERE slug = $1', [base]);
  return taken.length === 0 ? base : `${base}-${randomBase62(6).toLowerCase()}`;
}

export function validateOrganizationName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw validation('This field may not be blank.', 'name', 'blank');
  if (trimmed.length > 64) throw validation('Ensure this field has no more than 64 characters.', 'name', 'max_length');
  return trimmed;
}

/** Adds a membership and its activity entry ("member_joined"). */
export async function addMembership(
  tx: Queryable,
  actor: Actor,
  organization: OrganizationRecord,
  user: UserRecord,
  level: number,
  how: string,
): Promise<MembershipRecord> {
  const [membership] = await tx.query<MembershipRecord>(
    'INSERT INTO organization_memberships (organization_id, user_id, level) VALUES ($1, $2, $3) RETURNING *',
    [organization.id, user.id, level],
  );
  await recordActivity(tx, {
    organizationId: organization.id,
    actor,
    scope: 'Organization',
    activity: 'member_joined',
    itemId: membership!.id,
    detail: {
      name: `${displayName(user)} (${user.email}) joined ${organization.name}`,
      changes: [{ type: 'OrganizationMembership', action: 'created', field: 'level', before: null, after: level }],
      context: membershipContext(organization, user, level, { how }),
    },
  });
  return membership!;
}

export function membershipContext(
  organization: OrganizationRecord,
  user: Pick<UserRecord, 'id' | 'uuid' | 'email' | 'first_name' | 'last_name'>,
  level: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    organization_id: organization.id,
    organization_name: organization.name,
    user_id: user.id,
    user_uuid: user.uuid,
    user_email: user.email,
    user_name: displayName(user as UserRecord),
    level: organizationLevelName(level),
    ...extra,
  };
}

/**
 * PostHog's `Organization.objects.bootstrap`: the organization, its creator as OWNER and a default
 * project, all in the caller's transaction.
 */
export async function createOrganization(
  tx: Queryable,
  actor: Actor,
  creator: UserRecord,
  name: string,
): Promise<{ organization: OrganizationRecord; project: ProjectRecord }> {
  if (creator.is_service_account) throw permissionDenied('Service accounts cannot create organizations.');
  const cleanName = validateOrganizationName(name);
  const [organization] = await tx.query<OrganizationRecord>('INSERT INTO organizations (name, slug) VALUES ($1, $2) RETURNING *', [
    cleanName,
    await uniqueSlug(tx, cleanName),
  ]);
  await recordActivity(tx, {
    organizationId: organization!.id,
    actor,
    scope: 'Organization',
    activity: 'created',
    itemId: organization!.id,
    detail: { name: organization!.name, changes: [{ type: 'Organization', action: 'created' }] },
  });
  await addMembership(tx, actor, organization!, creator, OrganizationLevel.OWNER, 'created_organization');
  const project = await createProject(tx, actor, organization!, { name: DEFAULT_PROJECT_NAME, accessControl: false });
  await setCurrentContext(tx, creator.id, organization!.id, project.id);
  return { organization: organization!, project };
}

export interface OrganizationPatch {
  name?: string;
  members_can_invite?: boolean;
  members_can_use_personal_api_keys?: boolean;
  enforce_2fa?: boolean | null;
  is_member_join_email_enabled?: boolean;
  allow_publicly_shared_resources?: boolean;
  personal_api_keys_max_lifetime_days?: number | null;
  personal_api_keys_allowed_scopes?: string[] | null;
  require_key_ip_ranges?: boolean;
  activity_log_retention_days?: number | null;
  log_sensitive_reads?: boolean;
  default_role_id?: string | null;
  session_cookie_age?: number | null;
  session_idle_timeout?: number | null;
  production_grant_max_hours?: number | null;
}

const PATCHABLE = [
  'name',
  'members_can_invite',
  'members_can_use_personal_api_keys',
  'enforce_2fa',
  'is_member_join_email_enabled',
  'allow_publicly_shared_resources',
  'personal_api_keys_max_lifetime_days',
  'personal_api_keys_allowed_scopes',
  'require_key_ip_ranges',
  'activity_log_retention_days',
  'log_sensitive_reads',
  'default_role_id',
  'session_cookie_age',
  'session_idle_timeout',
  'production_grant_max_hours',
] as const satisfies ReadonlyArray<keyof OrganizationPatch & keyof OrganizationRecord>;

function validateKeyPolicy(patch: OrganizationPatch): void {
  const days = patch.personal_api_keys_max_lifetime_days;
  if (days !== undefined && days !== null && (!Number.isInteger(days) || days < 1 || days > 3650)) {
    throw validation('Ensure this value is a whole number of days from 1 to 3650.', 'personal_api_keys_max_lifetime_days');
  }
  for (const scope of patch.personal_api_keys_allowed_scopes ?? []) {
    if (!isValidScope(scope)) throw validation(`Invalid scope: ${scope}`, 'personal_api_keys_allowed_scopes');
  }
}

/** Session lifetime: an hour to two weeks; idle timeout: five minutes to two weeks (null: Warden's defaults). */
function validateSessionSettings(patch: OrganizationPatch): void {
  // production_grant_max_hours: the cap on a grant touching a production project (docs/time-bound-access.md).
  const bounds = { session_cookie_age: [3600, 1_209_600], session_idle_timeout: [300, 1_209_600], production_grant_max_hours: [1, 8760] } as const;
  for (const [field, [min, max]] of Object.entries(bounds) as Array<[keyof typeof bounds, readonly [number, number]]>) {
    const value = patch[field];
    if (value !== undefined && value !== null && (!Number.isInteger(value) || value < min || value > max)) {
      throw validation(`Ensure this value is a whole number of ${field.endsWith('hours') ? 'hours' : 'seconds'} from ${min} to ${max}.`, field);
    }
  }
}

/** The default role (joined by JIT-provisioned members) must be one of the organization's roles. */
async function validateDefaultRole(tx: Queryable, organizationId: string, roleId: string | null | undefined): Promise<void> {
  if (roleId === undefined || roleId === null) return;
  const [role] = isUuid(roleId) ? await tx.query('SELECT 1 FROM roles WHERE id = $1 AND organization_id = $2', [roleId, organizationId]) : [];
  if (!role) throw validation('Role does not exist.', 'default_role_id');
}

export async function updateOrganization(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  patch: OrganizationPatch,
): Promise<OrganizationRecord> {
  const { organization: before } = await lockAsAdmin(tx, organizationId, actor.userId);
  validateKeyPolicy(patch);
  validateRetentionDays(patch.activity_log_retention_days);
  validateSessionSettings(patch);
  await validateDefaultRole(tx, organizationId, patch.default_role_id);
  const next: OrganizationRecord = { ...before };
  for (const field of PATCHABLE) {
    if (patch[field] !== undefined) (next as unknown as Record<string, unknown>)[field] = patch[field];
  }
  if (patch.name !== undefined) next.name = validateOrganizationName(patch.name);
  if (next.personal_api_keys_allowed_scopes) next.personal_api_keys_allowed_scopes = [...new Set(next.personal_api_keys_allowed_scopes)];
  const changes = diffFields(before, next, PATCHABLE, 'Organization');
  if (changes.length === 0) return before;
  const assignments = PATCHABLE.map((field, i) => `${field} = $${i + 2}`).join(', ');
  const [after] = await tx.query<OrganizationRecord>(`UPDATE organizations SET ${assignments}, updated_at = now() WHERE id = $1 RETURNING *`, [
    organizationId,
    ...PATCHABLE.map((field) => next[field]),
  ]);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'updated',
    itemId: organizationId,
    detail: { name: after!.name, changes },
  });
  return after!;
}

export async function deleteOrganization(tx: Queryable, actor: Actor & { userId: number }, organizationId: string): Promise<void> {
  const organization = await lockOrganization(tx, organizationId);
  const membership = await requireMembership(tx, organizationId, actor.userId);
  if (membership.level < OrganizationLevel.OWNER) throw permissionDenied(INSUFFICIENT_ORG_LEVEL);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'deleted',
    itemId: organizationId,
    detail: { name: organization.name, changes: [{ type: 'Organization', action: 'deleted' }] },
  });
  await tx.query(`UPDATE users SET current_organization_id = NULL, current_project_id = NULL WHERE current_organization_id = $1`, [organizationId]);
  await tx.query('DELETE FROM organizations WHERE id = $1', [organizationId]);
}
