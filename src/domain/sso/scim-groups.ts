/**
 * SCIM groups of a domain (RFC 7643 §4.2) are roles of its organization, as in PostHog's
 * ee/api/scim/group.py: creating a group upserts the role by name (an existing role is linked, not
 * duplicated), members are role memberships, the group id is the role id, and deleting the group
 * deletes the role. Every change is an Organization-scope activity entry by the system, with
 * `via: 'scim'` in its context.
 */
import { logAccessControlRemoval, type AccessControlRecord } from '../access-control/access-controls.js';
import { targetBreach } from '../../access/grant-ceiling.js';
import { scimBadRequest, scimConflict, scimNotFound, ScimError } from '../../scim/errors.js';
import { filterToSql, type ColumnMap } from '../../scim/filter-sql.js';
import type { Filter } from '../../scim/filter.js';
import type { Queryable } from '../../store/database.js';
import { qb, rows } from '../../store/query-builder.js';
import { recordActivity } from '../activity/activity.js';
import { systemActor } from '../actor.js';
import { lockOrganization } from '../organizations/organizations.js';
import type { OrganizationRecord, UserRecord } from '../records.js';
import { putInRole, takeFromRole, validateRoleName } from '../access-control/roles.js';
import type { DomainRecord } from './sso-domains.js';
import { SCIM_ABOVE_CEILING, scimCeiling } from './scim-users.js';
import { isUuid } from '../identity/users.js';

export interface ScimGroupInput {
  displayName: string;
  externalId: string | null;
  /** User uuids (SCIM user ids). */
  members: string[];
}

export interface ScimGroupMember {
  uuid: string;
  email: string;
}

export interface ScimGroupRow {
  id: string;
  name: string;
  external_id: string | null;
  created_at: Date;
  updated_at: Date;
  members: ScimGroupMember[];
}

const GROUP_COLUMNS: ColumnMap = {
  id: { expr: 'r.id::text', type: 'text' },
  displayname: { expr: 'r.name', type: 'text' },
  externalid: { expr: 'sg.external_id', type: 'text', caseExact: true },
  'members.value': {
    expr: 'mu.uuid::text',
    type: 'text',
    wrap: (condition) => `EXISTS (SELECT 1 FROM role_memberships rm JOIN organization_memberships m ON m.id = rm.organization_member_id
      JOIN users mu ON mu.id = m.user_id WHERE rm.role_id = r.id AND ${condition})`,
  },
};

const SELECT = `SELECT r.id, r.name, sg.external_id, sg.created_at, sg.updated_at
  FROM scim_groups sg JOIN roles r ON r.id = sg.role_id`;

type Row = Omit<ScimGroupRow, 'members'>;

async function withMembers(q: Queryable, rows: Row[], includeMembers: boolean): Promise<ScimGroupRow[]> {
  const groups = rows.map((r) => ({ ...r, members: [] as ScimGroupMember[] }));
  if (!includeMembers || groups.length === 0) return groups;
  const members = await q.query<{ role_id: string; uuid: string; email: string }>(
    `SELECT rm.role_id, u.uuid::text AS uuid, u.email FROM role_memberships rm
       JOIN organization_memberships m ON m.id = rm.organization_member_id JOIN users u ON u.id = m.user_id
      WHERE rm.role_id = ANY($1::uuid[]) ORDER BY rm.joined_at, rm.id`,
    [groups.map((g) => g.id)],
  );
  for (const g of groups) g.members = members.filter((m) => m.role_id === g.id).map(({ uuid, email }) => ({ uuid, email }));
  return groups;
}

export async function listScimGroups(
  q: Queryable,
  domain: DomainRecord,
  query: { filter: Filter | null; offset: number; limit: number; includeMembers: boolean },
): Promise<{ total: number; rows: ScimGroupRow[] }> {
  const params: unknown[] = [domain.id];
  const where = `sg.domain_id = $1${query.filter ? ` AND ${filterToSql(query.filter, GROUP_COLUMNS, params)}` : ''}`;
  const [count] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM scim_groups sg JOIN roles r ON r.id = sg.role_id WHERE ${where}`, params);
  const rows = await q.query<Row>(`${SELECT} WHERE ${where} ORDER BY sg.created_at, r.id LIMIT ${query.limit} OFFSET ${query.offset}`, params);
  return { total: count?.n ?? 0, rows: await withMembers(q, rows, query.includeMembers) };
}

export async function getScimGroup(q: Queryable, domain: DomainRecord, id: string, includeMembers = true): Promise<ScimGroupRow> {
  if (!isUuid(id)) throw scimNotFound(`Group ${id} not found.`);
  const rows = await q.query<Row>(`${SELECT} WHERE sg.domain_id = $1 AND r.id = $2`, [domain.id, id]);
  if (rows.length === 0) throw scimNotFound(`Group ${id} not found.`);
  return (await withMembers(q, rows, includeMembers))[0]!;
}

const scimContext = (domain: DomainRecord, role: { id: string; name: string }, extra: Record<string, unknown> = {}) => ({
  via: 'scim',
  domain_id: domain.id,
  domain: domain.domain,
  role_id: role.id,
  role_name: role.name,
  ...extra,
});

function roleName(displayName: string): string {
  try {
    return validateRoleName(displayName);
  } catch (err) {
    throw scimBadRequest('invalidValue', `displayName: ${(err as Error).message}`);
  }
}

/** POST: the role of that name (any case), made when there is none, linked to the domain. */
export async function createScimGroup(tx: Queryable, domain: DomainRecord, input: ScimGroupInput): Promise<ScimGroupRow> {
  const organization = await lockOrganization(tx, domain.organization_id);
  const name = roleName(input.displayName);
  let [role] = await tx.query<{ id: string; name: string }>('SELECT id, name FROM roles WHERE organization_id = $1 AND lower(name) = lower($2)', [
    organization.id,
    name,
  ]);
  if (role) {
    const [linked] = await tx.query('SELECT 1 FROM scim_groups WHERE domain_id = $1 AND role_id = $2', [domain.id, role.id]);
    if (linked) throw scimConflict(`A group with displayName ${role.name} already exists.`);
  } else {
    [role] = await tx.query<{ id: string; name: string }>('INSERT INTO roles (organization_id, name, created_by_id) VALUES ($1, $2, NULL) RETURNING id, name', [
      organization.id,
      name,
    ]);
    await recordActivity(tx, {
      organizationId: organization.id,
      actor: systemActor,
      scope: 'Organization',
      activity: 'role_created',
      itemId: role!.id,
      detail: {
        name: role!.name,
        changes: [{ type: 'Role', action: 'created', field: 'name', before: null, after: role!.name }],
        context: { organization_id: organization.id, organization_name: organization.name, ...scimContext(domain, role!) },
      },
    });
  }
  await tx.query('INSERT INTO scim_groups (domain_id, role_id, external_id) VALUES ($1, $2, $3)', [domain.id, role!.id, input.externalId]);
  await recordActivity(tx, {
    organizationId: organization.id,
    actor: systemActor,
    scope: 'Organization',
    activity: 'scim_group_linked',
    itemId: role!.id,
    detail: { name: role!.name, context: scimContext(domain, role!, { external_id: input.externalId }) },
  });
  await setMembers(tx, organization, domain, role!, input.members);
  return getScimGroup(tx, domain, role!.id);
}

/** PUT, and PATCH after its operations are applied: name, externalId and the whole member list. */
export async function replaceScimGroup(tx: Queryable, domain: DomainRecord, id: string, input: ScimGroupInput): Promise<ScimGroupRow> {
  const organization = await lockOrganization(tx, domain.organization_id);
  const current = await getScimGroup(tx, domain, id, false);
  const name = roleName(input.displayName);
  if (name !== current.name) {
    const [taken] = await tx.query('SELECT 1 FROM roles WHERE organization_id = $1 AND lower(name) = lower($2) AND id <> $3', [organization.id, name, id]);
    if (taken) throw scimConflict(`A role named ${name} already exists.`);
    await tx.query('UPDATE roles SET name = $2 WHERE id = $1', [id, name]);
    await recordActivity(tx, {
      organizationId: organization.id,
      actor: systemActor,
      scope: 'Organization',
      activity: 'role_updated',
      itemId: id,
      detail: {
        name,
        changes: [{ type: 'Role', action: 'changed', field: 'name', before: current.name, after: name }],
        context: { organization_id: organization.id, organization_name: organization.name, ...scimContext(domain, { id, name }) },
      },
    });
  }
  if (input.externalId !== current.external_id) {
    await tx.query('UPDATE scim_groups SET external_id = $3, updated_at = now() WHERE domain_id = $1 AND role_id = $2', [domain.id, id, input.externalId]);
  } else {
    await tx.query('UPDATE scim_groups SET updated_at = now() WHERE domain_id = $1 AND role_id = $2', [domain.id, id]);
  }
  await setMembers(tx, organization, domain, { id, name }, input.members);
  return getScimGroup(tx, domain, id);
}

/** DELETE: the role goes, with its memberships and access-control rules (each rule's removal logged). */
export async function deleteScimGroup(tx: Queryable, domain: DomainRecord, id: string): Promise<void> {
  const organization = await lockOrganization(tx, domain.organization_id);
  const group = await getScimGroup(tx, domain, id, true);
  const rules = (await rows(tx, qb.selectFrom('access_controls').selectAll().where('role_id', '=', id).forUpdate())) as AccessControlRecord[];
  await recordActivity(tx, {
    organizationId: organization.id,
    actor: systemActor,
    scope: 'Organization',
    activity: 'role_deleted',
    itemId: id,
    detail: {
      name: group.name,
      changes: [{ type: 'Role', action: 'deleted', field: 'name', before: group.name, after: null }],
      context: {
        organization_id: organization.id,
        organization_name: organization.name,
        ...scimContext(domain, group, { member_count: group.members.length, access_control_count: rules.length }),
      },
    },
  });
  for (const rule of rules) {
    await logAccessControlRemoval(tx, systemActor, organization.id, rule, { role_name: group.name, reason: 'role_deleted', via: 'scim' });
  }
  await tx.query('DELETE FROM roles WHERE id = $1', [id]);
}

interface Member {
  membership_id: string;
  level: number;
  user: UserRecord;
}

/**
 * Makes the role's members exactly `uuids`. Each must be a user of the organization; users this
 * domain provisioned but deactivated have no membership and are skipped; anyone else is an error.
 */
async function setMembers(
  tx: Queryable,
  organization: OrganizationRecord,
  domain: DomainRecord,
  role: { id: string; name: string },
  uuids: string[],
): Promise<void> {
  const wanted = [...new Set(uuids.map((u) => u.toLowerCase()))];
  const bad = wanted.find((u) => !isUuid(u));
  if (bad !== undefined) throw scimBadRequest('invalidValue', `Member ${bad} is not a user id.`);
  const found = await tx.query<{ membership_id: string | null; level: number | null; user: UserRecord; scim_active: boolean | null }>(
    `SELECT m.id AS membership_id, m.level, row_to_json(u.*) AS user, su.active AS scim_active
       FROM users u
       LEFT JOIN organization_memberships m ON m.user_id = u.id AND m.organization_id = $1
       LEFT JOIN scim_users su ON su.user_id = u.id AND su.domain_id = $2
      WHERE u.uuid = ANY($3::uuid[])`,
    [organization.id, domain.id, wanted],
  );
  const members: Member[] = [];
  for (const uuid of wanted) {
    const row = found.find((f) => f.user.uuid.toLowerCase() === uuid);
    if (row?.membership_id) members.push({ membership_id: row.membership_id, level: row.level!, user: row.user });
    else if (row?.scim_active === false) continue;
    else throw scimBadRequest('invalidValue', `Member ${uuid} is not a user of this organization.`);
  }
  const current = await tx.query<{ id: string; organization_member_id: string; level: number; user: UserRecord }>(
    `SELECT rm.id, rm.organization_member_id, m.level, row_to_json(u.*) AS user FROM role_memberships rm
       JOIN organization_memberships m ON m.id = rm.organization_member_id JOIN users u ON u.id = m.user_id
      WHERE rm.role_id = $1`,
    [role.id],
  );
  const keep = new Set(members.map((m) => m.membership_id));
  const have = new Set(current.map((c) => c.organization_member_id));
  // Role changes of a member above the token's issuer are beyond the token (src/access/grant-ceiling.ts).
  const touched = [...current.filter((c) => !keep.has(c.organization_member_id)), ...members.filter((m) => !have.has(m.membership_id))];
  if (touched.some((t) => targetBreach(scimCeiling(domain), t.level))) throw new ScimError(403, SCIM_ABOVE_CEILING);
  for (const gone of current.filter((c) => !keep.has(c.organization_member_id))) {
    const member = { membershipId: gone.organization_member_id, level: gone.level, user: gone.user };
    await takeFromRole(tx, systemActor, organization, role, gone.id, member, scimContext(domain, role));
  }
  for (const added of members.filter((m) => !have.has(m.membership_id))) {
    const member = { membershipId: added.membership_id, level: added.level, user: added.user };
    await putInRole(tx, systemActor, organization, role, member, scimContext(domain, role));
  }
}
