/** Request and response shapes of the projects routes (PostHog's TeamSerializer, as Warden fills it). */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated } from './common.js';

export const ProjectParams = Type.Object({ project_id: Type.String() });
export type ProjectParams = Static<typeof ProjectParams>;

export const ProjectCreate = Type.Object(
  {
    name: Type.String(),
    access_control: Type.Optional(Type.Boolean()),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    product_description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type ProjectCreate = Static<typeof ProjectCreate>;

export const ProjectPatch = Type.Object(
  {
    name: Type.Optional(Type.String()),
    access_control: Type.Optional(Type.Boolean()),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    /** Warden: a production project (organization admins); grants to it obey the organization's production cap. */
    is_production: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ProjectPatch = Static<typeof ProjectPatch>;

export const Project = Type.Object({
  id: Type.Integer(),
  uuid: Type.String(),
  organization: Type.String(),
  project_id: Type.Integer(),
  name: Type.String(),
  api_token: Type.String(),
  access_control: Type.Boolean(),
  timezone: Type.String(),
  is_demo: Type.Boolean(),
  is_production: Type.Boolean(),
  effective_membership_level: Nullable(Type.Integer()),
  created_at: DateTime,
  updated_at: DateTime,
});
export type Project = Static<typeof Project>;

export const ProjectList = Paginated(Project);
export type ProjectList = Static<typeof ProjectList>;
