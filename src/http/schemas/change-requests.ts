import { Type } from '@sinclair/typebox';
import { DateTime, MaybeDateTime, MaybeUser } from './approval-policies.js';

/** Change requests (PostHog's ChangeRequestSerializer), their votes and decisions; see docs/approvals.md. */
export const RequestParams = Type.Object({ project_id: Type.String(), request_id: Type.String() });

export const Decision = Type.Object({ reason: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])) }, { additionalProperties: false });

export const RequestListQuery = Type.Object({
  /** One state, or several separated by commas. */
  state: Type.Optional(Type.String({ maxLength: 100 })),
  action_key: Type.Optional(Type.String({ maxLength: 128 })),
  action_type: Type.Optional(Type.String({ maxLength: 128 })),
  requester: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  resource_type: Type.Optional(Type.String({ maxLength: 64 })),
  resource_id: Type.Optional(Type.String({ maxLength: 128 })),
  limit: Type.Optional(Type.String()),
  offset: Type.Optional(Type.String()),
});

const Vote = Type.Object({
  id: Type.String(),
  created_by: MaybeUser,
  decision: Type.String(),
  reason: Type.String(),
  created_at: DateTime,
});

export const ChangeRequest = Type.Object({
  id: Type.String(),
  action_key: Type.String(),
  action_version: Type.Integer(),
  resource_type: Type.String(),
  resource_id: Type.String(),
  intent: Type.Unknown(),
  intent_display: Type.Unknown(),
  policy_snapshot: Type.Unknown(),
  validation_status: Type.String(),
  validation_errors: Type.Null(),
  validated_at: Type.Null(),
  state: Type.String(),
  created_by: MaybeUser,
  applied_by: MaybeUser,
  created_at: DateTime,
  updated_at: DateTime,
  expires_at: DateTime,
  applied_at: MaybeDateTime,
  apply_error: Type.String(),
  result_data: Type.Null(),
  approvals: Type.Array(Vote),
  can_approve: Type.Boolean(),
  can_cancel: Type.Boolean(),
  is_requester: Type.Boolean(),
  user_decision: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  resource: Type.String(),
  requested_by: MaybeUser,
  decided_by: MaybeUser,
  decided_at: MaybeDateTime,
  reason: Type.Union([Type.String(), Type.Null()]),
});

export const RequestPage = Type.Object({
  count: Type.Integer(),
  next: Type.Union([Type.String(), Type.Null()]),
  previous: Type.Union([Type.String(), Type.Null()]),
  results: Type.Array(ChangeRequest),
});

export const DecisionResult = Type.Object({
  status: Type.String(),
  message: Type.String(),
  change_request: ChangeRequest,
});
