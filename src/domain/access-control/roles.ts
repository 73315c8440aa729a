/**
 * Roles and role memberships of an organization (PostHog's Role / RoleMembership, ee/api/rbac/role.py).
 * Members may read them; organization admins and owners change them. Every change writes an
 * Organization-scope activity entry (role_created, role_updated, role_deleted, role_assigned,
 * role_unassigned) in the same transaction.
 */
import { OrganizationLevel } from '../../access/levels.js';
import { ROLES_NEED_ADMIN } from '../../access/messages.js';
import type { Queryable } from '../../store/database.js';
import { qb, row, rows, type Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { pgErrorCode, PgCode } from '../../store/database.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { logAccessControlRemoval, type AccessControlRecord } from './access-controls.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import type { MemberRow } from '../organizations/members.js';
import { lockOrganization, membershipContext, requireMembership } from '../organizations/organizations.js';
import type { MembershipRecord, OrganizationRecord, UserRecord } from '../records.js';
import { sweepOrganization } from './grant-expiry.js';
import { checkGrantTerms, LASTING, type GrantTerms } from './grant-terms.js';
import { isUuid } from '../identity/users.js';

export const DUPLICATE_ROLE_NAME = 'There is already a role with this name.';
export const ROLE_DOES_NOT_EXIST = 'Role does not exist.';
export const USER_DOES_NOT_EXIST = 'User does not exist.';
export const ALREADY_IN_ROLE = 'User is already part of the role.';

export type RoleRecord = Selectable<DB['roles']>;

export type RoleMembershipRecord = Selectable<DB['role_memberships']>;

export type RoleMembershipRow = RoleMembershipRecord & { member: MemberRow };
/** is_default: the organization's default role, which JIT-provisioned members join. */
export type RoleRow = RoleRecord & { created_by: UserRecord | null; members: RoleMembershipRow[]; is_default?: boolean };

/** row_to_json gives timestamps as strings; callers get Dates as from a plain SELECT. */
function userFromJson(json: unknown): UserRecord {
  const u = json as Record<string, unknown>;
  return {
    ...(u as unknown as UserRecord),
    last_login: u.last_login ? new Date(u.last_login as string) : null,
    date_joined: new Date(u.date_joined as string),
  };
}

function membershipFromJson(json: unknown): MembershipRecord {
  const m = json as Record<string, unknown>;
  return { ...(m as unknown as MembershipRecord), joined_at: new Date(m.joined_at as string), updated_at: new Date(m.updated_at as string) };
}

const MEMBERSHIP_SELECT = `SELECT rm.*, row_to_json(m.*) AS membership, row_to_json(u.*) AS user
  FROM role_memberships rm
  JOIN organization_memberships m ON m.id = rm.organization_member_id
  JOIN users u ON u.id = m.user_id`;

type MembershipQueryRow = RoleMembershipRecord & { membership: unknown; user: unknown };

function toMembershipRow(row: MembershipQueryRow): RoleMembershipRow {
  const { membership, user, ...rest } = row;
  return { ...rest, member: { ...membershipFromJson(membership), user: userFromJson(user) } };
}

async function membershipsOf(q: Queryable, roleIds: readonly string[]): Promise<RoleMembershipRow[]> {
  if (roleIds.length === 0) return [];
  const rows = await q.query<MembershipQueryRow>(`${MEMBERSHIP_SELECT} WHERE rm.role_id = ANY($1::uuid[]) ORDER BY rm.joined_at, rm.id`, [roleIds]);
  return rows.map(toMembershipRow);
}

async function withMembers(q: Queryable, roles: Array<RoleRecord & { created_by: unknown }>): Promise<RoleRow[]> {
  const memberships = await membershipsOf(
    q,
    roles.map((r) => r.id),
  );
  return roles.map((role) => ({
    ...role,
    created_by: role.created_by ? userFromJson(role.created_by) : null,
    members: memberships.filter((m) => m.role_id === role.id),
  }));
}

const ROLE_SELECT = `SELECT r.*, row_to_json(cu.*) AS created_by, (o.default_role_id IS NOT DISTINCT FROM r.id) AS is_default
  FROM roles r JOIN organizations o ON o.id = r.organization_id LEFT JOIN users cu ON cu.id = r.created_by_id`;

export async function listRoles(q: Queryable, organizationId: string, page: { limit: number; offset: number }): Promise<{ count: number; rows: RoleRow[] }> {
  const [total] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM roles WHERE organization_id = $1', [organizationId]);
  const roles = await q.query<RoleRecord & { created_by: unknown }>(
    `${ROLE_SELECT} WHERE r.organization_id = $1 ORDER BY r.created_at, r.id LIMIT $2 OFFSET $3`,
    [organizationId, page.limit, page.offset],
  );
  return { count: total?.n ?? 0, rows: await withMembers(q, roles) };
}

/** A role of the organization, or undefined (ids that are not UUIDs name no role). */
export async function findRole(q: Queryable, organizationId: string, roleId: string, lock = false): Promise<RoleRecord | undefined> {
  if (!isUuid(roleId)) return undefined;
  const query = qb.selectFrom('roles').selectAll().where('id', '=', roleId).where('organization_id', '=', organizationId);
  return row(q, lock ? query.forUpdate() : query);
}

export async function getRole(q: Queryable, organizationId: string, roleId: string): Promise<RoleRow> {
  if (!isUuid(roleId)) throw notFound();
  const roles = await q.query<RoleRecord & { created_by: unknown }>(`${ROLE_SELECT} WHERE r.id = $1 AND r.organization_id = $2`, [roleId, organizationId]);
  if (roles.length === 0) throw notFound();
  return (await withMembers(q, roles))[0]!;
}

/** DRF's CharField: trimmed, not blank, at most 200 characters. */
export function validateRoleName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw validation('This field may not be blank.', 'name', 'blank');
  if (trimmed.length > 200) throw validation('Ensure this field has no more than 200 characters.', 'name', 'max_length');
  return trimmed;
}

/** Locks the organization and checks the actor is an admin or owner of it. */
async function adminOf(tx: Queryable, actor: Actor & { userId: number }, organizationId: string): Promise<OrganizationRecord> {
  const organization = await lockOrganization(tx, organizationId);
  const membership = await requireMembership(tx, organizationId, actor.userId);
  if (membership.level < OrganizationLevel.ADMIN) throw permissionDenied(ROLES_NEED_ADMIN);
  return organization;
}

async function assertNameFree(tx: Queryable, organizationId: string, name: string, exceptId: string | null): Promise<void> {
  const [taken] = await tx.query('SELECT 1 FROM roles WHERE organization_id = $1 AND lower(name) = lower($2) AND ($3::uuid IS NULL OR id <> $3::uuid)', [
    organizationId,
    name,
    exceptId,
  ]);
  if (taken) throw validation(DUPLICATE_ROLE_NAME, 'name', 'unique');
}

/** Runs a write that may hit the (organization, lower(name)) unique index, as PostHog's 400. */
async function uniqueName<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) throw validation(DUPLICATE_ROLE_NAME, 'name', 'unique');
    throw err;
  }
}

const roleContext = (organization: OrganizationRecord, role: Pick<RoleRecord, 'id' | 'name'>) => ({
  organization_id: organization.id,
  organization_name: organization.name,
  role_id: role.id,
  role_name: role.name,
});

export async function createRole(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, rawName: string): Promise<RoleRow> {
  const organization = await adminOf(tx, actor, organizationId);
  const name = validateRoleName(rawName);
  await assertNameFree(tx, organizationId, name, null);
  const [role] = await uniqueName(() =>
    tx.query<RoleRecord>('INSERT INTO roles (organization_id, name, created_by_id) VALUES ($1, $2, $3) RETURNING *', [organizationId, name, actor.userId]),
  );
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'role_created',
    itemId: role!.id,
    detail: {
      name: role!.name,
      changes: [{ type: 'Role', action: 'created', field: 'name', before: null, after: role!.name }],
      context: roleContext(organization, role!),
    },
  });
  return getRole(tx, organizationId, role!.id);
}

export async function updateRole(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  roleId: string,
  patch: { name?: string },
): Promise<RoleRow> {
  const organization = await adminOf(tx, actor, organizationId);
  const before = await findRole(tx, organizationId, roleId, true);
  if (!before) throw notFound();
  if (patch.name === undefined) return getRole(tx, organizationId, roleId);
  const name = validateRoleName(patch.name);
  if (name === before.name) return getRole(tx, organizationId, roleId);
  await assertNameFree(tx, organizationId, name, roleId);
  await uniqueName(() => tx.query('UPDATE roles SET name = $2 WHERE id = $1', [roleId, name]));
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'role_updated',
    itemId: roleId,
    detail: {
      name,
      changes: [{ type: 'Role', action: 'changed', field: 'name', before: before.name, after: name }],
      context: roleContext(organization, { id: roleId, name }),
    },
  });
  return getRole(tx, organizationId, roleId);
}

/** Deletes a role; its memberships and its access-control rows go with it (each removal logged). */
export async function deleteRole(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, roleId: string): Promise<void> {
  const organization = await adminOf(tx, actor, organizationId);
  const role = await findRole(tx, organizationId, roleId, true);
  if (!role) throw notFound();
  const rules = (await rows(tx, qb.selectFrom('access_controls').selectAll().where('role_id', '=', roleId).forUpdate())) as AccessControlRecord[];
  const [members] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM role_memberships WHERE role_id = $1', [roleId]);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'role_deleted',
    itemId: roleId,
    detail: {
      name: role.name,
      changes: [{ type: 'Role', action: 'deleted', field: 'name', before: role.name, after: null }],
      context: { ...roleContext(organization, role), member_count: members?.n ?? 0, access_control_count: rules.length },
    },
  });
  for (const rule of rules) {
    await logAccessControlRemoval(tx, actor, organizationId, rule, { role_name: role.name, reason: 'role_deleted' });
  }
  await tx.query('DELETE FROM roles WHERE id = $1', [roleId]);
}

// ---- Role memberships -------------------------------------------------------------------------

export async function listRoleMemberships(
  q: Queryable,
  organizationId: string,
  roleId: string,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: RoleMembershipRow[] }> {
  const role = await findRole(q, organizationId, roleId);
  if (!role) throw notFound();
  const [total] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM role_memberships WHERE role_id = $1', [roleId]);
  const rows = await q.query<MembershipQueryRow>(`${MEMBERSHIP_SELECT} WHERE rm.role_id = $1 ORDER BY rm.joined_at, rm.id LIMIT $2 OFFSET $3`, [
    roleId,
    page.limit,
    page.offset,
  ]);
  return { count: total?.n ?? 0, rows: rows.map(toMembershipRow) };
}

export async function getRoleMembership(q: Queryable, organizationId: string, roleId: string, membershipId: string): Promise<RoleMembershipRow> {
  const role = await findRole(q, organizationId, roleId);
  if (!role || !isUuid(membershipId)) throw notFound();
  const [row] = await q.query<MembershipQueryRow>(`${MEMBERSHIP_SELECT} WHERE rm.role_id = $1 AND rm.id = $2`, [roleId, membershipId]);
  if (!row) throw notFound();
  return toMembershipRow(row);
}

/** A member as the role-membership entries describe them. */
export interface RoleMemberFacts {
  membershipId: string;
  level: number;
  user: Pick<UserRecord, 'id' | 'uuid' | 'email' | 'first_name' | 'last_name'>;
}

/**
 * Puts a member in a role and records `role_assigned`, in the caller's transaction. Who may do it
 * (an admin, SSO group mapping, SCIM, the access matrix) is the caller's rule; this is the one
 * place the write and its entry are made.
 */
export async function putInRole(
  tx: Queryable,
  actor: Actor,
  organization: OrganizationRecord,
  role: { id: string; name: string },
  member: RoleMemberFacts,
  context: Record<string, unknown> = {},
  terms?: GrantTerms,
): Promise<RoleMembershipRecord> {
  const [inserted] = (await tx.query<RoleMembershipRecord>(
    'INSERT INTO role_memberships (role_id, organization_member_id, expires_at, reason) VALUES ($1, $2, $3, $4) RETURNING *',
    [role.id, member.membershipId, terms?.expiresAt ?? null, terms?.reason ?? null],
  )) as [RoleMembershipRecord];
  if (terms) context = { ...context, expires_at: terms.expiresAt, reason: terms.reason };
  await recordActivity(tx, {
    organizationId: organization.id,
    actor,
    scope: 'Organization',
    activity: 'role_assigned',
    itemId: inserted.id,
    detail: {
      name: `${member.user.email} assigned to role ${role.name}`,
      changes: [{ type: 'RoleMembership', action: 'created', field: 'role', before: null, after: role.name }],
      context: membershipContext(organization, member.user, member.level, { role_id: role.id, role_name: role.name, ...context }),
    },
  });
  return inserted;
}

/** Takes a role membership away and records `role_unassigned` (the counterpart of putInRole). */
export async function takeFromRole(
  tx: Queryable,
  actor: Actor,
  organization: OrganizationRecord,
  role: { id: string; name: string },
  roleMembershipId: string,
  member: RoleMemberFacts,
  context: Record<string, unknown> = {},
): Promise<void> {
  await tx.query('DELETE FROM role_memberships WHERE id = $1', [roleMembershipId]);
  await recordActivity(tx, {
    organizationId: organization.id,
    actor,
    scope: 'Organization',
    activity: 'role_unassigned',
    itemId: roleMembershipId,
    detail: {
      name: `${member.user.email} removed from role ${role.name}`,
      changes: [{ type: 'RoleMembership', action: 'deleted', field: 'role', before: role.name, after: null }],
      context: membershipContext(organization, member.user, member.level, { role_id: role.id, role_name: role.name, ...context }),
    },
  });
}

/** Adds an active member of the organization (by user uuid) to a role. */
export async function addRoleMember(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  roleId: string,
  userUuid: string,
  terms?: GrantTerms,
): Promise<RoleMembershipRow> {
  const organization = await adminOf(tx, actor, organizationId);
  await sweepOrganization(tx, organizationId);
  if (!isUuid(userUuid)) throw validation('Must be a valid UUID.', 'user_uuid');
  const role = await findRole(tx, organizationId, roleId, true);
  if (!role) throw validation(ROLE_DOES_NOT_EXIST, null);
  const [target] = await tx.query<{ membership: unknown; user: unknown }>(
    `SELECT row_to_json(m.*) AS membership, row_to_json(u.*) AS user
       FROM organization_memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 AND u.uuid = $2 AND u.is_active`,
    [organizationId, userUuid],
  );
  if (!target) throw validation(USER_DOES_NOT_EXIST, null);
  const membership = membershipFromJson(target.membership);
  const user = userFromJson(target.user);
  const [existing] = await tx.query('SELECT 1 FROM role_memberships WHERE role_id = $1 AND organization_member_id = $2', [roleId, membership.id]);
  if (existing) throw validation(ALREADY_IN_ROLE, null);
  await checkGrantTerms(tx, organizationId, terms ?? LASTING, { roleId });
  let inserted: RoleMembershipRecord;
  try {
    inserted = await putInRole(tx, actor, organization, role, { membershipId: membership.id, level: membership.level, user }, {}, terms);
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) throw validation(ALREADY_IN_ROLE, null);
    throw err;
  }
  return { ...inserted, member: { ...membership, user } };
}

export async function removeRoleMember(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  roleId: string,
  membershipId: string,
): Promise<void> {
  const organization = await adminOf(tx, actor, organizationId);
  const role = await findRole(tx, organizationId, roleId, true);
  if (!role || !isUuid(membershipId)) throw notFound();
  const [row] = await tx.query<MembershipQueryRow>(`${MEMBERSHIP_SELECT} WHERE rm.role_id = $1 AND rm.id = $2 FOR UPDATE OF rm`, [roleId, membershipId]);
  if (!row) throw notFound();
  const target = toMembershipRow(row);
  await takeFromRole(tx, actor, organization, role, membershipId, { membershipId: target.member.id, level: target.member.level, user: target.member.user });
}
