import { ceilingMessage, levelGrantBreach } from '../../access/grant-ceiling.js';
import { isOrganizationLevel, organizationLevelName } from '../../access/levels.js';
import type { Queryable } from '../../store/database.js';
import { qb, row as first, rows } from '../../store/query-builder.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { adminAuthority, getDomain, lockDomain } from './organization-domains.js';
import type { GroupMappingRecord } from './sso-group-mapping.js';
import { isUuid } from '../identity/users.js';

/** An admin's mapping of an IdP group name to an organization level and/or a role. */
export interface GroupMappingInput {
  group_name: string;
  level?: number | null;
  role_id?: string | null;
}

export async function listGroupMappings(q: Queryable, organizationId: string, domainId: string): Promise<GroupMappingRecord[]> {
  await getDomain(q, organizationId, domainId);
  return rows(q, qb.selectFrom('sso_group_mappings').selectAll().where('domain_id', '=', domainId).orderBy('group_name').orderBy('created_at'));
}

export async function createGroupMapping(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  domainId: string,
  input: GroupMappingInput,
): Promise<GroupMappingRecord> {
  const { organization, level: authority } = await adminAuthority(tx, actor, organizationId);
  const domain = await lockDomain(tx, organizationId, domainId);
  const groupName = input.group_name.trim();
  if (!groupName) throw validation('This field may not be blank.', 'group_name', 'blank');
  if (groupName.length > 400) throw validation('Ensure this field has no more than 400 characters.', 'group_name', 'max_length');
  const level = input.level ?? null;
  if (level !== null && !isOrganizationLevel(level)) throw validation(`"${String(level)}" is not a valid choice.`, 'level', 'invalid_choice');
  // A mapping grants its level at every login: only someone who may grant that level may save it.
  const breach = level === null ? null : levelGrantBreach(authority, level);
  if (breach) throw permissionDenied(ceilingMessage(breach));
  const roleId = input.role_id ?? null;
  let roleName: string | null = null;
  if (roleId !== null) {
    const [role] = isUuid(roleId)
      ? await tx.query<{ name: string }>('SELECT name FROM roles WHERE id = $1 AND organization_id = $2', [roleId, organizationId])
      : [];
    if (!role) throw validation('Role does not exist.', 'role_id');
    roleName = role.name;
  }
  if (level === null && roleId === null) throw validation('Map the group to a level, a role, or both.', null);
  const [duplicate] = await tx.query(
    'SELECT 1 FROM sso_group_mappings WHERE domain_id = $1 AND group_name = $2 AND role_id IS NOT DISTINCT FROM $3::uuid AND level IS NOT DISTINCT FROM $4::smallint',
    [domainId, groupName, roleId, level],
  );
  if (duplicate) throw validation('This group mapping already exists.', 'group_name', 'unique');
  const [row] = await tx.query<GroupMappingRecord>(
    'INSERT INTO sso_group_mappings (domain_id, group_name, level, role_id, created_by_level) VALUES ($1, $2, $3, $4, $5) RETURNING *',
    [domainId, groupName, level, roleId, authority],
  );
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'sso_group_mapping_created',
    itemId: row!.id,
    detail: {
      name: `${groupName} -> ${[level !== null ? organizationLevelName(level) : null, roleName ? `role ${roleName}` : null].filter(Boolean).join(', ')}`,
      changes: [{ type: 'SsoGroupMapping', action: 'created', field: 'group_name', before: null, after: groupName }],
      context: { organization_name: organization.name, domain: domain.domain, level, role_id: roleId, role_name: roleName, created_by_level: authority },
    },
  });
  return row!;
}

export async function deleteGroupMapping(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  domainId: string,
  mappingId: string,
): Promise<void> {
  const { organization, level: authority } = await adminAuthority(tx, actor, organizationId);
  const domain = await lockDomain(tx, organizationId, domainId);
  const row = isUuid(mappingId)
    ? await first(tx, qb.selectFrom('sso_group_mappings').selectAll().where('id', '=', mappingId).where('domain_id', '=', domainId))
    : undefined;
  if (!row) throw notFound();
  // Taking a mapping away is bounded like making it: an Admin cannot remove what only an Owner could save.
  const breach = row.level === null ? null : levelGrantBreach(authority, row.level);
  if (breach) throw permissionDenied(ceilingMessage(breach));
  await tx.query('DELETE FROM sso_group_mappings WHERE id = $1', [row.id]);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'sso_group_mapping_deleted',
    itemId: row.id,
    detail: {
      name: row.group_name,
      changes: [{ type: 'SsoGroupMapping', action: 'deleted', field: 'group_name', before: row.group_name, after: null }],
      context: { organization_name: organization.name, domain: domain.domain, level: row.level, role_id: row.role_id },
    },
  });
}
