import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated, UserBasic } from './common.js';
import { GrantTermsInput, GrantTermsOutput } from './grant-terms.js';

export const MemberParams = Type.Object({ organization_id: Type.String(), user_uuid: Type.String() });
export type MemberParams = Static<typeof MemberParams>;
export const MemberQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 200 })),
  email: Type.Optional(Type.String({ maxLength: 254 })),
  limit: Type.Optional(Type.String()),
  offset: Type.Optional(Type.String()),
  order: Type.Optional(Type.String()),
});
export type MemberQuery = Static<typeof MemberQuery>;
export const MemberPatch = Type.Object({ level: Type.Integer(), ...GrantTermsInput }, { additionalProperties: false });
export type MemberPatch = Static<typeof MemberPatch>;

/** PostHog's OrganizationMemberSerializer. */
export const Member = Type.Object({
  id: Type.String(),
  user: UserBasic,
  level: Type.Integer(),
  is_service_account: Type.Boolean(),
  joined_at: DateTime,
  updated_at: DateTime,
  is_2fa_enabled: Type.Boolean(),
  has_social_auth: Type.Boolean(),
  last_login: Nullable(DateTime),
  /** Warden: a raised level's expiry and reason, and the lasting level it falls back to (null when lasting). */
  ...GrantTermsOutput,
  level_after_expiry: Nullable(Type.Integer()),
});
export type Member = Static<typeof Member>;
export const MemberList = Paginated(Member);
export type MemberList = Static<typeof MemberList>;
