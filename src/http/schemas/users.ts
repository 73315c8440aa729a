/** Request and response shapes of /api/users/:user_id/ (PostHog's UserSerializer, as Warden fills it). */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, ProjectBasic, UserBasic } from './common.js';

/** `@me` or the caller's own uuid. */
export const UserParams = Type.Object({ user_id: Type.String() });
export type UserParams = Static<typeof UserParams>;

export const UserPatch = Type.Object(
  {
    first_name: Type.Optional(Type.String({ maxLength: 150 })),
    last_name: Type.Optional(Type.String({ maxLength: 150 })),
    set_current_organization: Type.Optional(Type.String()),
    set_current_team: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })),
    current_password: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type UserPatch = Static<typeof UserPatch>;

export const UserOrganization = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  membership_level: Type.Integer(),
});
export type UserOrganization = Static<typeof UserOrganization>;

export const User = Type.Object({
  ...UserBasic.properties,
  date_joined: DateTime,
  last_login: Nullable(DateTime),
  is_staff: Type.Boolean(),
  is_active: Type.Boolean(),
  pending_email: Type.Null(),
  organization: Nullable(UserOrganization),
  team: Nullable(ProjectBasic),
  organizations: Type.Array(UserOrganization),
});
export type User = Static<typeof User>;
