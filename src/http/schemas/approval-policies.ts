import { Type, type Static } from '@sinclair/typebox';

/** Approval policies (PostHog's ApprovalPolicySerializer), requests and answers; see docs/approvals.md. */
export const ProjectPolicyParams = Type.Object({ project_id: Type.String(), policy_id: Type.String() });
export const OrganizationPolicyParams = Type.Object({ organization_id: Type.String(), policy_id: Type.String() });

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Level = Type.Union([Type.Integer(), Type.String({ pattern: '^[0-9]{1,2}$' })]);

export const Conditions = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('any_change'), Type.Literal('before_after'), Type.Literal('change_amount')])),
    field: Type.Optional(Type.Literal('rollout_percentage')),
    operator: Type.Optional(Type.Union(['>', '<', '>=', '<=', '==', '!='].map((o) => Type.Literal(o as '>')))),
    value: Type.Optional(Type.Number()),
    flag_tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100 })),
    project_ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

export const ApproverConfig = Type.Object(
  {
    quorum: Type.Integer({ minimum: 1, maximum: 100 }),
    users: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), { maxItems: 100 })),
    roles: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);

const fields = {
  conditions: Type.Optional(Conditions),
  approver_config: Type.Optional(ApproverConfig),
  allow_self_approve: Type.Optional(Type.Boolean()),
  bypass_org_membership_levels: Type.Optional(Type.Array(Level, { maxItems: 3 })),
  bypass_roles: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
  bypass_object_managers: Type.Optional(Type.Boolean()),
  expires_after: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 2_147_483_647 })])),
  enabled: Type.Optional(Type.Boolean()),
  role: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
};

export const PolicyCreate = Type.Object(
  {
    action_key: Type.Optional(Type.String({ maxLength: 128 })),
    /** The first version's field (`delete_feature_flag`). */
    action: Type.Optional(Type.String({ maxLength: 128 })),
    ...fields,
  },
  { additionalProperties: false },
);
export type PolicyCreate = Static<typeof PolicyCreate>;
export const PolicyPatch = PolicyCreate;

export const PolicyListQuery = Type.Object({
  action_key: Type.Optional(Type.String({ maxLength: 128 })),
  enabled: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  limit: Type.Optional(Type.String()),
  offset: Type.Optional(Type.String()),
});

export const UserBasic = Type.Object({
  id: Type.Integer(),
  uuid: Type.String(),
  distinct_id: Nullable(Type.String()),
  first_name: Type.String(),
  last_name: Nullable(Type.String()),
  email: Type.String(),
  is_email_verified: Type.Boolean(),
  hedgehog_config: Type.Null(),
  role_at_organization: Type.Null(),
  is_service_account: Type.Boolean(),
});
export const MaybeUser = Type.Union([UserBasic, Type.Null()]);
/** A timestamp: the handler gives a Date, the answer carries its ISO text. */
export const DateTime = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const MaybeDateTime = Type.Union([DateTime, Type.Null()]);

export const ApprovalPolicy = Type.Object({
  id: Type.String(),
  action_key: Type.String(),
  conditions: Type.Unknown(),
  approver_config: Type.Object({ quorum: Type.Integer(), users: Type.Array(Type.Integer()), roles: Type.Array(Type.String()) }),
  allow_self_approve: Type.Boolean(),
  bypass_org_membership_levels: Type.Array(Type.String()),
  bypass_roles: Type.Array(Type.String()),
  expires_after: Type.String(),
  enabled: Type.Boolean(),
  created_by: MaybeUser,
  created_at: DateTime,
  updated_at: DateTime,
  team_id: Type.Union([Type.Integer(), Type.Null()]),
  role: Nullable(Type.String()),
  bypass_object_managers: Type.Boolean(),
  action: Type.String(),
  created_by_id: Type.Union([Type.Integer(), Type.Null()]),
});

export const PolicyPage = Type.Object({
  count: Type.Integer(),
  next: Nullable(Type.String()),
  previous: Nullable(Type.String()),
  results: Type.Array(ApprovalPolicy),
});
