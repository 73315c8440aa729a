import { organizationLevelName } from '../../access/levels.js';
import type { Queryable } from '../../store/database.js';
import { usersWithAccess } from '../access-control/users-with-access.js';
import { listOrganizationKeys, type InventoryKey } from '../organizations/key-inventory.js';

/**
 * What an access review copies at its start: every grant in its scope, one item each. The grants are
 * the ones the rest of Warden reads (organization memberships, explicit project memberships, role
 * memberships, member-scoped access-control rows, personal API keys and service accounts); for a
 * project review, "who has access" (src/domain/access-control/users-with-access.ts) gives each
 * person's effective level in the project, and the key inventory
 * (src/domain/organizations/key-inventory.ts) the keys.
 *
 * Flags: `left` for a person who is deactivated (users.is_active false) or deprovisioned by SCIM in
 * one of the organization's domains (scim_users.active false) but still holds the grant;
 * `unused_key` for a key not used for 90 days, or never used and created more than 90 days ago.
 */
export type ItemKind = 'organization_membership' | 'project_membership' | 'role_membership' | 'access_control' | 'personal_api_key' | 'service_account';

export const ITEM_KINDS: readonly ItemKind[] = [
  'organization_membership',
  'project_membership',
  'role_membership',
  'access_control',
  'personal_api_key',
  'service_account',
];

export type ItemFlag = 'left' | 'unused_key';

export const UNUSED_KEY_DAYS = 90;

export interface SnapshotItem {
  kind: ItemKind;
  targetId: string;
  projectId: number | null;
  subject: { id: number; uuid: string; email: string; isServiceAccount: boolean; level: number };
  access: string;
  detail: Record<string, unknown>;
  flags: ItemFlag[];
  /** False for access only another kind of review can take away (a project review's organization-level access). */
  revocable: boolean;
}

interface SubjectRow {
  user_id: number;
  uuid: string;
  email: string;
  is_service_account: boolean;
  level: number;
  left: boolean;
}

const SUBJECT = `u.id AS user_id, u.uuid::text AS uuid, u.email, u.is_service_account, m.level,
  (NOT u.is_active OR EXISTS (SELECT 1 FROM scim_users su JOIN organization_domains d ON d.id = su.domain_id
     WHERE su.user_id = u.id AND d.organization_id = m.organization_id AND NOT su.active)) AS left`;

const subjectOf = (r: SubjectRow) => ({ id: r.user_id, uuid: r.uuid, email: r.email, isServiceAccount: r.is_service_account, level: r.level });
const leftFlag = (r: SubjectRow): ItemFlag[] => (r.left ? ['left'] : []);

export function keyUnused(key: { created_at: Date | string; last_used_at: Date | string | null }, now = Date.now()): boolean {
  const limit = now - UNUSED_KEY_DAYS * 86_400_000;
  const last = key.last_used_at === null ? null : new Date(key.last_used_at).getTime();
  return last === null ? new Date(key.created_at).getTime() < limit : last < limit;
}

/** $1 = organization id, $2 = project id or null (the whole organization). */
async function projectMemberships(q: Queryable, organizationId: string, projectId: number | null): Promise<SnapshotItem[]> {
  const rows = await q.query<SubjectRow & { id: string; project_id: number; project_name: string; explicit_level: number }>(
    `SELECT e.id::text AS id, e.project_id, p.name AS project_name, e.level AS explicit_level, ${SUBJECT}
       FROM explicit_project_memberships e JOIN projects p ON p.id = e.project_id
       JOIN organization_memberships m ON m.id = e.parent_membership_id JOIN users u ON u.id = m.user_id
      WHERE p.organization_id = $1 AND ($2::integer IS NULL OR e.project_id = $2) ORDER BY p.id, u.email`,
    [organizationId, projectId],
  );
  return rows.map((r) => ({
    kind: 'project_membership',
    targetId: r.id,
    projectId: r.project_id,
    subject: subjectOf(r),
    access: `${r.explicit_level >= 8 ? 'admin' : 'member'} of project ${r.project_name}`,
    detail: { project_name: r.project_name, level: r.explicit_level },
    flags: leftFlag(r),
    revocable: true,
  }));
}

/** Role memberships: every role of the organization, or (a project review) the roles with rows in the project. */
async function roleMemberships(q: Queryable, organizationId: string, projectId: number | null): Promise<SnapshotItem[]> {
  const rows = await q.query<SubjectRow & { id: string; role_id: string; role_name: string }>(
    `SELECT rm.id::text AS id, r.id::text AS role_id, r.name AS role_name, ${SUBJECT}
       FROM role_memberships rm JOIN roles r ON r.id = rm.role_id
       JOIN organization_memberships m ON m.id = rm.organization_member_id JOIN users u ON u.id = m.user_id
      WHERE r.organization_id = $1
        AND ($2::integer IS NULL OR EXISTS (SELECT 1 FROM access_controls ac WHERE ac.role_id = r.id AND ac.team_id = $2))
      ORDER BY r.name, u.email`,
    [organizationId, projectId],
  );
  return rows.map((r) => ({
    kind: 'role_membership',
    targetId: r.id,
    projectId: null,
    subject: subjectOf(r),
    access: `member of role ${r.role_name}`,
    detail: { role_id: r.role_id, role_name: r.role_name },
    flags: leftFlag(r),
    revocable: true,
  }));
}

/** Access-control rows that name a member (rows naming a role are reviewed through the role's memberships). */
async function accessControlRows(q: Queryable, organizationId: string, projectId: number | null): Promise<SnapshotItem[]> {
  const rows = await q.query<
    SubjectRow & { id: string; team_id: number; project_name: string; resource: string; resource_id: string | null; access_level: string }
  >(
    `SELECT ac.id::text AS id, ac.team_id, p.name AS project_name, ac.resource, ac.resource_id, ac.access_level, ${SUBJECT}
       FROM access_controls ac JOIN projects p ON p.id = ac.team_id
       JOIN organization_memberships m ON m.id = ac.organization_member_id JOIN users u ON u.id = m.user_id
      WHERE p.organization_id = $1 AND ($2::integer IS NULL OR ac.team_id = $2) ORDER BY p.id, ac.resource, u.email`,
    [organizationId, projectId],
  );
  return rows.map((r) => ({
    kind: 'access_control',
    targetId: r.id,
    projectId: r.team_id,
    subject: subjectOf(r),
    access:
      r.resource === 'project'
        ? `${r.access_level} on project ${r.project_name}`
        : `${r.access_level} on ${r.resource}${r.resource_id === null ? ' (project-wide)' : ` ${r.resource_id}`} in ${r.project_name}`,
    detail: { project_name: r.project_name, resource: r.resource, resource_id: r.resource_id, access_level: r.access_level },
    flags: leftFlag(r),
    revocable: true,
  }));
}

function keyItem(key: InventoryKey, left: boolean, projectId: number | null): SnapshotItem {
  const flags: ItemFlag[] = left ? ['left'] : [];
  if (keyUnused(key)) flags.push('unused_key');
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return {
    kind: 'personal_api_key',
    targetId: key.id,
    projectId,
    subject: { id: key.owner.id, uuid: key.owner.uuid, email: key.owner.email, isServiceAccount: key.owner.is_service_account, level: key.owner.level },
    access: `API key ${key.label} (${key.mask_value}): ${key.scopes.join(' ')}`,
    detail: {
      label: key.label,
      mask_value: key.mask_value,
      scopes: key.scopes,
      scoped_teams: key.scoped_teams,
      scoped_organizations: key.scoped_organizations,
      created_at: iso(key.created_at),
      last_used_at: iso(key.last_used_at),
      expires_at: iso(key.expires_at),
    },
    flags,
    revocable: true,
  };
}

async function leftUserIds(q: Queryable, organizationId: string): Promise<Set<number>> {
  const rows = await q.query<SubjectRow>(`SELECT ${SUBJECT} FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1`, [
    organizationId,
  ]);
  return new Set(rows.filter((r) => r.left).map((r) => r.user_id));
}

async function organizationItems(q: Queryable, organizationId: string): Promise<SnapshotItem[]> {
  const members = await q.query<SubjectRow & { id: string }>(
    `SELECT m.id::text AS id, ${SUBJECT} FROM organization_memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 ORDER BY u.is_service_account, u.email`,
    [organizationId],
  );
  const left = new Set(members.filter((m) => m.left).map((m) => m.user_id));
  const memberItems: SnapshotItem[] = members.map((m) =>
    m.is_service_account
      ? {
          kind: 'service_account',
          targetId: m.uuid,
          projectId: null,
          subject: subjectOf(m),
          access: `service account, ${organizationLevelName(m.level)} (${m.level})`,
          detail: { membership_id: m.id, level: m.level },
          flags: leftFlag(m),
          revocable: true,
        }
      : {
          kind: 'organization_membership',
          targetId: m.id,
          projectId: null,
          subject: subjectOf(m),
          access: `${organizationLevelName(m.level)} (${m.level}) of the organization`,
          detail: { level: m.level },
          flags: leftFlag(m),
          revocable: true,
        },
  );
  const keys = (await listOrganizationKeys(q, organizationId)).map((k) => keyItem(k, left.has(k.owner.id), null));
  return [
    ...memberItems,
    ...(await projectMemberships(q, organizationId, null)),
    ...(await roleMemberships(q, organizationId, null)),
    ...(await accessControlRows(q, organizationId, null)),
    ...keys,
  ];
}

async function projectItems(q: Queryable, organizationId: string, projectId: number): Promise<SnapshotItem[]> {
  const people = await usersWithAccess(q, projectId, { kind: 'project' });
  const left = await leftUserIds(q, organizationId);
  const withAccess = new Set(people.map((p) => p.user.id));
  const reach: SnapshotItem[] = people.map((p) => ({
    kind: 'organization_membership',
    targetId: p.organization_membership_id,
    projectId,
    subject: { id: p.user.id, uuid: p.user.uuid, email: p.user.email, isServiceAccount: p.user.is_service_account, level: p.organization_membership_level },
    access: `${p.project_access_level} of the project (${p.reason})`,
    detail: {
      organization_level: p.organization_membership_level,
      project_access_level: p.project_access_level,
      access_source: p.access_source,
      reason: p.reason,
    },
    flags: left.has(p.user.id) ? ['left'] : [],
    revocable: false,
  }));
  const keys = (await listOrganizationKeys(q, organizationId))
    .filter((k) => withAccess.has(k.owner.id) && (k.scoped_teams === null || k.scoped_teams.includes(projectId)))
    .map((k) => keyItem(k, left.has(k.owner.id), projectId));
  return [
    ...reach,
    ...(await projectMemberships(q, organizationId, projectId)),
    ...(await roleMemberships(q, organizationId, projectId)),
    ...(await accessControlRows(q, organizationId, projectId)),
    ...keys,
  ];
}

/** The items of a review of the organization (projectId null) or of one of its projects. */
export function snapshot(q: Queryable, organizationId: string, projectId: number | null): Promise<SnapshotItem[]> {
  return projectId === null ? organizationItems(q, organizationId) : projectItems(q, organizationId, projectId);
}
