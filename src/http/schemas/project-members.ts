/** Request and response shapes of a project's explicit members (`members/` and PostHog's `explicit_members/`). */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Paginated, UserBasic } from './common.js';
import { GrantTermsInput, GrantTermsOutput } from './grant-terms.js';

export const ProjectMemberParams = Type.Object({ project_id: Type.String(), user_uuid: Type.String() });
export type ProjectMemberParams = Static<typeof ProjectMemberParams>;

export const ProjectMemberAdd = Type.Object(
  {
    user_id: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
    user_uuid: Type.Optional(Type.String()),
    level: Type.Optional(Type.Integer()),
    ...GrantTermsInput,
  },
  { additionalProperties: false },
);
export type ProjectMemberAdd = Static<typeof ProjectMemberAdd>;

export const ProjectMemberLevel = Type.Object({ level: Type.Integer(), ...GrantTermsInput }, { additionalProperties: false });
export type ProjectMemberLevel = Static<typeof ProjectMemberLevel>;

const memberFields = {
  id: Type.String(),
  user: UserBasic,
  level: Type.Integer(),
  parent_level: Type.Integer(),
  effective_level: Type.Integer(),
  joined_at: DateTime,
  updated_at: DateTime,
  ...GrantTermsOutput,
};

/** The source document's `/api/projects/:id/members/` entry. */
export const ProjectMember = Type.Object(memberFields);
export type ProjectMember = Static<typeof ProjectMember>;

export const ProjectMemberList = Paginated(ProjectMember);
export type ProjectMemberList = Static<typeof ProjectMemberList>;

/** PostHog's `/api/projects/:id/explicit_members/` entry. */
export const ExplicitMember = Type.Object({ ...memberFields, parent_membership_id: Type.String() });
export type ExplicitMember = Static<typeof ExplicitMember>;

/** `explicit_members/` lists a plain array. */
export const ExplicitMemberList = Type.Array(ExplicitMember);
export type ExplicitMemberList = Static<typeof ExplicitMemberList>;
