import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated, UserBasic } from './common.js';

/** Access requests (docs/access-requests.md). Bodies are checked by the domain, whose messages name the field. */
export const AccessRequestParams = Type.Object({ project_id: Type.String(), request_id: Type.String() });
export type AccessRequestParams = Static<typeof AccessRequestParams>;

export const AccessRequestCreate = Type.Object({
  resource: Type.Unknown({ description: "'project', or a resource type such as feature_flag." }),
  resource_id: Type.Optional(
    Type.Unknown({ description: 'One object of the resource (feature_flag, insight, dashboard, session_recording); none: the whole type.' }),
  ),
  access_level: Type.Unknown({ description: 'The level asked for: member or admin for a project, viewer, editor or manager for a resource.' }),
  duration_hours: Type.Optional(Type.Unknown({ description: 'For how long, from approval (whole hours, at most 2160). Give this or expires_at.' })),
  expires_at: Type.Optional(Type.Unknown({ description: 'Until when (ISO 8601, in the future). Give this or duration_hours.' })),
  reason: Type.Unknown({ description: 'Why the access is needed.' }),
});
export type AccessRequestCreate = Static<typeof AccessRequestCreate>;

export const AccessRequestApprove = Type.Object({
  access_level: Type.Optional(Type.Unknown({ description: 'A lower level than requested (default: as requested).' })),
  duration_hours: Type.Optional(Type.Unknown({ description: 'A shorter time, from now (default: as requested).' })),
  expires_at: Type.Optional(Type.Unknown({ description: 'An earlier end (default: as requested).' })),
  reason: Type.Optional(Type.Unknown({ description: 'A note for the requester.' })),
});
export type AccessRequestApprove = Static<typeof AccessRequestApprove>;

export const AccessRequestDeny = Type.Object({ reason: Type.Unknown({ description: 'Why the request is denied.' }) });
export type AccessRequestDeny = Static<typeof AccessRequestDeny>;

export const AccessRequestListQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied')])),
  limit: Type.Optional(Type.String()),
  offset: Type.Optional(Type.String()),
});

export const AccessRequest = Type.Object({
  id: Type.String(),
  project_id: Type.Integer(),
  project_name: Type.String(),
  requester: UserBasic,
  resource: Type.String(),
  resource_id: Nullable(Type.String()),
  access_level: Type.String(),
  duration_hours: Nullable(Type.Integer()),
  expires_at: Nullable(DateTime),
  reason: Type.String(),
  state: Type.String(),
  decided_by: Nullable(UserBasic),
  decided_at: Nullable(DateTime),
  decision_reason: Nullable(Type.String()),
  granted_access_level: Nullable(Type.String()),
  granted_expires_at: Nullable(DateTime),
  access_control_id: Nullable(Type.String()),
  created_at: DateTime,
  can_decide: Type.Boolean(),
  is_requester: Type.Boolean(),
});
export type AccessRequest = Static<typeof AccessRequest>;

export const AccessRequestPage = Paginated(AccessRequest);
export type AccessRequestPage = Static<typeof AccessRequestPage>;
