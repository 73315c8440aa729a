/** PostHog's JSON shapes for roles and role memberships (ee/api/rbac/role.py). */
import type { RoleMembershipRow, RoleRow } from '../../domain/access-control/roles.js';
import { member, userBasic } from '../serializers.js';

export function roleMembership(row: RoleMembershipRow) {
  return {
    id: row.id,
    role_id: row.role_id,
    organization_member: member(row.member),
    user: userBasic(row.member.user),
    joined_at: row.joined_at,
    updated_at: row.updated_at,
    expires_at: row.expires_at,
    reason: row.reason,
  };
}

export function role(row: RoleRow) {
  return {
    id: row.id,
    name: row.name,
    created_at: row.created_at,
    created_by: row.created_by ? userBasic(row.created_by) : null,
    members: row.members.map(roleMembership),
    is_default: row.is_default ?? false,
  };
}
