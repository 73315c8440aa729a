import { Type } from '@sinclair/typebox';
import { DateTime, Nullable } from './common.js';

/** Who has access and why (src/http/routes/users-with-access.ts), PostHog's `users_with_access`. */
export const UwaProjectParams = Type.Object({ project_id: Type.String() });
export const UwaResourceParams = Type.Object({ project_id: Type.String(), resource: Type.String({ maxLength: 64 }) });
export const UwaObjectParams = Type.Object({ project_id: Type.String(), id: Type.String() });
export const UwaQuery = Type.Object({
  member: Type.Optional(
    Type.String({
      maxLength: 64,
      description: "An organization membership id: only that member, even without access, with every resource type's level.",
    }),
  ),
});

const Source = Type.Union(
  [
    Type.Literal('creator'),
    Type.Literal('organization_admin'),
    Type.Literal('project_admin'),
    Type.Literal('explicit_member'),
    Type.Literal('explicit_role'),
    Type.Literal('default'),
  ],
  { description: "How the user got this level (PostHog's access_source)." },
);

const ResourceAnswer = Type.Object({
  resource: Type.String(),
  access_level: Type.String(),
  access_source: Source,
  reason: Type.String(),
  can_read: Type.Boolean(),
  can_write: Type.Boolean(),
});

export const UserWithAccess = Type.Object({
  user_id: Type.String({ description: "The user's UUID." }),
  user: Type.Object({
    id: Type.Integer(),
    uuid: Type.String(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    is_service_account: Type.Boolean(),
  }),
  access_level: Type.String(),
  access_source: Source,
  reason: Type.String({ description: 'The rule that gives the level, in words.' }),
  organization_membership_id: Type.String(),
  organization_membership_level: Type.String({ description: 'member, admin or owner.' }),
  role_ids: Type.Array(Type.String()),
  project_access_level: Type.String({ description: "The member's level in the project: none, member or admin." }),
  expires_at: Nullable(DateTime),
  grant_reasons: Type.Array(Type.String(), { description: 'The reasons given for the time-bound or explained grants the access rests on.' }),
  resources: Type.Optional(Type.Array(ResourceAnswer)),
});

export const UsersWithAccess = Type.Object({ users: Type.Array(UserWithAccess), total_count: Type.Integer() });
