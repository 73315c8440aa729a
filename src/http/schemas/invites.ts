import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated, UserBasic } from './common.js';

export const InviteParams = Type.Object({ organization_id: Type.String(), invite_id: Type.String() });
export type InviteParams = Static<typeof InviteParams>;
export const InviteCreate = Type.Object(
  {
    target_email: Type.String(),
    level: Type.Optional(Type.Integer()),
    first_name: Type.Optional(Type.String({ maxLength: 30 })),
    message: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type InviteCreate = Static<typeof InviteCreate>;

/** PostHog's OrganizationInviteSerializer; `emailing_attempt_made` says whether SMTP is configured. */
export const Invite = Type.Object({
  id: Type.String(),
  target_email: Type.String(),
  first_name: Type.String(),
  emailing_attempt_made: Type.Boolean(),
  level: Type.Integer(),
  is_expired: Type.Boolean(),
  created_by: Nullable(UserBasic),
  created_at: DateTime,
  updated_at: DateTime,
  expires_at: DateTime,
  message: Nullable(Type.String()),
  private_project_access: Type.Array(Type.Unknown()),
});
export type Invite = Static<typeof Invite>;
export const InviteList = Paginated(Invite);
export type InviteList = Static<typeof InviteList>;
