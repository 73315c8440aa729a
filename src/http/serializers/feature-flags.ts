/** PostHog's JSON shapes for feature flags: the API's, local evaluation's, and /flags' flag details. */
import type { EvaluationFlagRecord, FeatureFlagRecord } from '../../domain/analytics/feature-flags.js';
import { isSimpleFlag, type FlagEvaluation } from '../../domain/analytics/flag-evaluation.js';
import type { UserRecord } from '../../domain/records.js';
import { userBasic } from '../serializers.js';

/** `/api/projects/:id/feature_flags/` (PostHog's FeatureFlagSerializer, the fields Warden has). */
export function featureFlag(f: FeatureFlagRecord, createdBy: UserRecord | null) {
  const simple = isSimpleFlag(f.filters);
  return {
    id: f.id,
    team_id: f.team_id,
    name: f.name,
    key: f.key,
    filters: f.filters,
    deleted: f.deleted,
    active: f.active,
    created_by: createdBy ? userBasic(createdBy) : null,
    created_at: f.created_at,
    updated_at: f.updated_at,
    is_simple_flag: simple,
    rollout_percentage: simple ? (f.filters.groups[0]!.rollout_percentage ?? null) : null,
    ensure_experience_continuity: f.ensure_experience_continuity,
    tags: f.tags,
  };
}

/** A flag as SDKs evaluating locally read it (PostHog's MinimalFeatureFlagSerializer). */
export function localEvaluationFlag(f: EvaluationFlagRecord) {
  return {
    id: f.id,
    team_id: f.team_id,
    name: f.name,
    key: f.key,
    filters: f.filters,
    deleted: f.deleted,
    active: f.active,
    ensure_experience_continuity: f.ensure_experience_continuity,
    has_encrypted_payloads: false,
    version: null,
    evaluation_runtime: 'all',
  };
}

/** One entry of `/flags?v=2`'s `flags` map (the flags service's FlagDetails). Warden keeps no flag versions: 0, as PostHog reports an unknown one. */
export function flagDetails(e: FlagEvaluation, flagId: number) {
  return {
    key: e.key,
    enabled: e.enabled,
    variant: e.variant,
    reason: e.reason,
    metadata: { id: flagId, version: 0, description: null, payload: e.payload },
  };
}
