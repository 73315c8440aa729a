import { levelUnderCeiling, targetBreach } from '../../access/grant-ceiling.js';
import { OrganizationLevel } from '../../access/levels.js';
import type { Queryable } from '../../store/database.js';
import { qb, rows, type Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { recordActivity } from '../activity/activity.js';
import { systemActor } from '../actor.js';
import { isOnlyOwner, membershipContext } from '../organizations/organizations.js';
import { putInRole, takeFromRole } from '../access-control/roles.js';
import type { MembershipRecord, OrganizationRecord, UserRecord } from '../records.js';
import type { DomainRecord } from './sso-domains.js';

/** created_by_level: the level of the admin who saved it, the ceiling it is held to at every login. */
export type GroupMappingRecord = Selectable<DB['sso_group_mappings']>;

/** The changes the mapping's ceiling held back at a login (empty when none). */
export type HeldBack = Array<Record<string, unknown>>;

export interface GroupMappingTarget {
  domain: DomainRecord;
  organization: OrganizationRecord;
  user: UserRecord;
  membership: MembershipRecord;
  /** The groups the IdP sent ([] when it sent the attribute empty); null when it sent no such attribute (then nothing is changed). */
  groups: string[] | null;
}

/** The level the mapped groups give: the highest of the user's groups, Member when none of them maps to a level. */
export function mappedLevel(mappings: readonly GroupMappingRecord[], groups: readonly string[]): number | null {
  const levelMappings = mappings.filter((m) => m.level !== null);
  if (levelMappings.length === 0) return null;
  const levels = levelMappings.filter((m) => groups.includes(m.group_name)).map((m) => m.level!);
  return levels.length ? Math.max(...levels) : OrganizationLevel.MEMBER;
}

/**
 * The authority of the level mappings together: the least level among their authors. Every level
 * mapping takes part in each outcome (a user in none of the groups falls to Member), so the whole
 * set acts with the authority of its weakest author.
 */
export function levelMappingAuthority(mappings: readonly GroupMappingRecord[]): number {
  return Math.min(...mappings.filter((m) => m.level !== null).map((m) => m.created_by_level));
}

/** For every role the mapping mentions: whether the user's groups put them in it, and the least authority of the mappings naming it. */
export function mappedRoles(mappings: readonly GroupMappingRecord[], groups: readonly string[]): Map<string, { wanted: boolean; authority: number }> {
  const roles = new Map<string, { wanted: boolean; authority: number }>();
  for (const m of mappings) {
    if (!m.role_id) continue;
    const seen = roles.get(m.role_id);
    roles.set(m.role_id, {
      wanted: (seen?.wanted ?? false) || groups.includes(m.group_name),
      authority: Math.min(seen?.authority ?? m.created_by_level, m.created_by_level),
    });
  }
  return roles;
}

/**
 * Re-applies a domain's group mapping at an SSO login: the organization level (demotions included,
 * but never of the organization's last owner) and membership of every mapped role. Roles the
 * mapping does not mention are left alone. Each change is a system entry in the activity log.
 * The mapping is held to the ceiling of whoever saved it (src/access/grant-ceiling.ts): it gives no
 * level above that, and changes nothing of a member above it; a change held back is a security event.
 */
export async function applyGroupMapping(tx: Queryable, target: GroupMappingTarget): Promise<HeldBack> {
  const { domain, organization, user, membership, groups } = target;
  if (groups === null) return [];
  const mappings = await rows(tx, qb.selectFrom('sso_group_mappings').selectAll().where('domain_id', '=', domain.id));
  if (mappings.length === 0) return [];
  const mappingContext = { domain: domain.domain, groups, reason: 'sso_group_mapping' };
  const heldBack: Array<Record<string, unknown>> = [];

  const mapped = mappedLevel(mappings, groups);
  const level = mapped === null ? null : levelUnderCeiling(levelMappingAuthority(mappings), membership.level, mapped);
  if (mapped !== null && level !== mapped) heldBack.push({ change: 'level', wanted: mapped, kept: membership.level });
  // An organization always keeps an owner: the only owner is not demoted by a group change.
  let currentLevel = membership.level;
  if (level !== null && level !== membership.level && !(await isOnlyOwner(tx, membership))) {
    currentLevel = level;
    await tx.query('UPDATE organization_memberships SET level = $2, updated_at = now() WHERE id = $1', [membership.id, level]);
    await recordActivity(tx, {
      organizationId: organization.id,
      actor: systemActor,
      scope: 'Organization',
      activity: 'member_level_changed',
      itemId: membership.id,
      detail: {
        name: `${user.email} membership updated in ${organization.name} from SSO groups`,
        changes: [{ type: 'OrganizationMembership', action: 'changed', field: 'level', before: membership.level, after: level }],
        context: membershipContext(organization, user, membership.level, mappingContext),
      },
    });
  }

  const roles = mappedRoles(mappings, groups);
  if (roles.size === 0) return heldBack;
  const current = await tx.query<{ role_id: string; id: string; name: string }>(
    `SELECT rm.role_id, rm.id, r.name FROM role_memberships rm JOIN roles r ON r.id = rm.role_id
      WHERE rm.organization_member_id = $1`,
    [membership.id],
  );
  const has = new Map(current.map((r) => [r.role_id, r]));
  const member = { membershipId: membership.id, level: currentLevel, user };
  for (const [roleId, { wanted, authority }] of roles) {
    if (wanted !== has.has(roleId) && targetBreach(authority, currentLevel)) {
      heldBack.push({ change: wanted ? 'role_added' : 'role_removed', role_id: roleId });
      continue;
    }
    if (wanted && !has.has(roleId)) {
      const [role] = await tx.query<{ id: string; name: string }>('SELECT id, name FROM roles WHERE id = $1 AND organization_id = $2', [
        roleId,
        organization.id,
      ]);
      if (role) await putInRole(tx, systemActor, organization, role, member, mappingContext);
    } else if (!wanted && has.has(roleId)) {
      const row = has.get(roleId)!;
      await takeFromRole(tx, systemActor, organization, { id: roleId, name: row.name }, row.id, member, mappingContext);
    }
  }
  return heldBack;
}
