import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable } from './common.js';
import { GrantTermsInput, GrantTermsOutput } from './grant-terms.js';

export const ObjectParams = Type.Object({ project_id: Type.String(), id: Type.String() });
export type ObjectParams = Static<typeof ObjectParams>;
const NullableText = (maxLength: number) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));
export const AccessControlBody = Type.Object(
  {
    access_level: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
    organization_member: NullableText(64),
    role: NullableText(64),
    resource: Type.Optional(Type.String({ maxLength: 64 })),
    // Taken from the URL (object routes) or null (project-wide rules), as PostHog does.
    resource_id: Type.Optional(Type.Unknown()),
    ...GrantTermsInput,
  },
  { additionalProperties: false },
);
export type AccessControlBody = Static<typeof AccessControlBody>;

/** PostHog's AccessControlSerializer (ee/api/rbac/access_control.py). */
export const AccessControl = Type.Object({
  id: Type.String(),
  access_level: Type.String(),
  resource: Type.String(),
  resource_id: Nullable(Type.String()),
  organization_member: Nullable(Type.String()),
  role: Nullable(Type.String()),
  created_by: Nullable(Type.Integer()),
  created_at: DateTime,
  updated_at: DateTime,
  ...GrantTermsOutput,
});
export type AccessControl = Static<typeof AccessControl>;

/** The rules of one scope, the levels they can take, and what the caller has and may do. */
export const AccessControls = Type.Object({
  access_controls: Type.Array(AccessControl),
  available_access_levels: Type.Unsafe<readonly string[]>(Type.Array(Type.String())),
  default_access_level: Type.String(),
  minimum_access_level: Type.String(),
  maximum_access_level: Type.String(),
  user_access_level: Type.String(),
  user_can_edit_access_levels: Type.Boolean(),
});
export type AccessControls = Static<typeof AccessControls>;
