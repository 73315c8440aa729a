/** Request and response shapes of roles and role memberships (PostHog's ee/api/rbac/role.py). */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, OrganizationMember, Paginated, UserBasic } from './common.js';
import { GrantTermsInput, GrantTermsOutput } from './grant-terms.js';

export const RoleParams = Type.Object({ organization_id: Type.String(), role_id: Type.String() });
export type RoleParams = Static<typeof RoleParams>;
export const RoleMembershipParams = Type.Object({ organization_id: Type.String(), role_id: Type.String(), membership_id: Type.String() });
export type RoleMembershipParams = Static<typeof RoleMembershipParams>;

export const RoleCreate = Type.Object({ name: Type.String() }, { additionalProperties: false });
export type RoleCreate = Static<typeof RoleCreate>;
export const RolePatch = Type.Object({ name: Type.Optional(Type.String()) }, { additionalProperties: false });
export type RolePatch = Static<typeof RolePatch>;
export const RoleMembershipCreate = Type.Object({ user_uuid: Type.String(), ...GrantTermsInput }, { additionalProperties: false });
export type RoleMembershipCreate = Static<typeof RoleMembershipCreate>;

export const RoleMembership = Type.Object({
  id: Type.String(),
  role_id: Type.String(),
  organization_member: OrganizationMember,
  user: UserBasic,
  joined_at: DateTime,
  updated_at: DateTime,
  ...GrantTermsOutput,
});
export type RoleMembership = Static<typeof RoleMembership>;

export const Role = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: DateTime,
  created_by: Nullable(UserBasic),
  members: Type.Array(RoleMembership),
  is_default: Type.Boolean(),
});
export type Role = Static<typeof Role>;

export const RoleList = Paginated(Role);
export type RoleList = Static<typeof RoleList>;
export const RoleMembershipList = Paginated(RoleMembership);
export type RoleMembershipList = Static<typeof RoleMembershipList>;
