import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated, Query, UserBasic } from './common.js';

export const FlagParams = Type.Object({ project_id: Type.String(), flag_id: Type.String() });
export type FlagParams = Static<typeof FlagParams>;
export const FlagListQuery = Query(['search', 'active', 'limit', 'offset']);
const fields = {
  name: Type.Optional(Type.String({ maxLength: 10_000 })),
  // Checked by the domain, so that every problem in it is reported against `filters`.
  filters: Type.Optional(Type.Unknown()),
  active: Type.Optional(Type.Boolean()),
  ensure_experience_continuity: Type.Optional(Type.Boolean()),
  // Tags (PostHog's TaggedItem): what approval policies' `flag_tags` conditions match.
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 100 })),
};
export const FlagCreate = Type.Object({ key: Type.String({ minLength: 1, maxLength: 400 }), ...fields }, { additionalProperties: false });
export type FlagCreate = Static<typeof FlagCreate>;
export const FlagPatch = Type.Object(
  { key: Type.Optional(Type.String({ minLength: 1, maxLength: 400 })), ...fields, deleted: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type FlagPatch = Static<typeof FlagPatch>;

/** PostHog's flag filters: `groups` (conditions and rollout), `multivariate`, `payloads`; as stored. */
export const FlagFilters = Type.Object({}, { additionalProperties: true, description: "PostHog's filters: groups, multivariate, payloads." });

/** PostHog's FeatureFlagSerializer, the fields Warden has. */
export const FeatureFlag = Type.Object({
  id: Type.Integer(),
  team_id: Type.Integer(),
  name: Type.String(),
  key: Type.String(),
  filters: FlagFilters,
  deleted: Type.Boolean(),
  active: Type.Boolean(),
  created_by: Nullable(UserBasic),
  created_at: DateTime,
  updated_at: DateTime,
  is_simple_flag: Type.Boolean(),
  rollout_percentage: Nullable(Type.Number()),
  ensure_experience_continuity: Type.Boolean(),
  tags: Type.Array(Type.String()),
});
export type FeatureFlag = Static<typeof FeatureFlag>;
export const FeatureFlagList = Paginated(FeatureFlag);
export type FeatureFlagList = Static<typeof FeatureFlagList>;

/** 409 where an approval policy holds the change: PostHog's approval_required (or change_request_pending) body with the change request. */
export const ApprovalRequired = Type.Object(
  {},
  { additionalProperties: true, description: 'The change is held for approval: the change request (see change_requests).' },
);
