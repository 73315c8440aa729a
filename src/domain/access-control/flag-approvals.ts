import { createHash } from 'node:crypto';
import type { Queryable } from '../../store/database.js';
import type { Actor } from '../actor.js';
import type { ActionKey, PolicyConditions } from './approval-policies.js';
import { notFound } from '../errors.js';
import type { FlagFilters } from '../analytics/flag-evaluation.js';
import { parseFilters } from '../analytics/flag-filters.js';
import { deleteFeatureFlag, updateFeatureFlag, validateFlagKey, type FeatureFlagPatch, type FeatureFlagRecord } from '../analytics/feature-flags.js';

/**
 * What an approval needs to know about a flag change (PostHog's feature-flag actions): which gated
 * actions a PATCH or DELETE performs, the rollout values before and after (for a policy's
 * conditions), the flag's version when the change was asked (a change request whose flag changed
 * since cannot be applied), and applying the held change later.
 */
export interface FlagChange {
  patch: FeatureFlagPatch;
  deleted: boolean;
}

export type FlagState = FeatureFlagRecord & { tags?: string[] };

interface PathValue {
  path: string;
  value: number;
}

/** The intent a change request holds (PostHog's `intent`), JSON. */
export interface FlagIntent {
  flag_id: number;
  flag_key: string;
  full_request_data: FeatureFlagPatch & { deleted?: true };
  current_state: { active: boolean; rollout_percentage: PathValue[] };
  gated_changes: { active?: boolean; rollout_percentage?: PathValue[]; deleted?: true };
  preconditions: { updated_at: string; version: string };
}

/** Every rollout percentage in the filters, by path; a condition set without one serves everyone (100). */
export function rolloutPercentages(filters: FlagFilters): PathValue[] {
  const values = filters.groups.map((g, i) => ({ path: `groups[${i}].rollout_percentage`, value: g.rollout_percentage ?? 100 }));
  for (const [i, v] of (filters.multivariate?.variants ?? []).entries())
    values.push({ path: `multivariate.variants[${i}].rollout_percentage`, value: v.rollout_percentage });
  return values;
}

/** The flag's version: a hash of everything a change could touch. */
export function flagVersion(flag: FlagState): string {
  const state = [flag.key, flag.name, flag.filters, flag.active, flag.ensure_experience_continuity, flag.deleted, flag.tags ?? []];
  return createHash('sha256').update(JSON.stringify(state)).digest('hex').slice(0, 32);
}

/**
 * The gated actions of a change, checked as the flag route would check it (so that a request never
 * holds a change that could not be made): deleting, enabling or disabling, and changing the filters.
 */
export function classifyFlagChange(flag: FlagState, change: FlagChange): { actions: ActionKey[]; intent: FlagIntent } {
  if (change.patch.key !== undefined) validateFlagKey(change.patch.key);
  const filters = change.patch.filters === undefined ? undefined : parseFilters(change.patch.filters);
  const actions: ActionKey[] = [];
  const gated: FlagIntent['gated_changes'] = {};
  if (change.deleted) {
    actions.push('feature_flag.delete');
    gated.deleted = true;
  }
  if (change.patch.active !== undefined && change.patch.active !== flag.active) {
    actions.push(change.patch.active ? 'feature_flag.enable' : 'feature_flag.disable');
    gated.active = change.patch.active;
  }
  if (filters !== undefined && JSON.stringify(filters) !== JSON.stringify(flag.filters)) {
    actions.push('feature_flag.update');
    gated.rollout_percentage = rolloutPercentages(filters);
  }
  const full: FlagIntent['full_request_data'] = { ...change.patch, ...(filters ? { filters } : {}), ...(change.deleted ? { deleted: true as const } : {}) };
  return {
    actions,
    intent: {
      flag_id: flag.id,
      flag_key: flag.key,
      full_request_data: full,
      current_state: { active: flag.active, rollout_percentage: rolloutPercentages(flag.filters) },
      gated_changes: gated,
      preconditions: { updated_at: new Date(flag.updated_at).toISOString(), version: flagVersion(flag) },
    },
  };
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/**
 * Does a policy's conditions cover this change? Warden's flag and project conditions first; then
 * PostHog's change conditions on `rollout_percentage`, which only a filters change can meet (the
 * other actions have no rollout to compare, and a condition-less policy covers every change).
 */
export function conditionsMatch(conditions: PolicyConditions, projectId: number, flag: FlagState, action: ActionKey, intent: FlagIntent): boolean {
  if (conditions.project_ids && conditions.project_ids.length > 0 && !conditions.project_ids.includes(projectId)) return false;
  if (conditions.flag_tags && conditions.flag_tags.length > 0 && !(flag.tags ?? []).some((t) => conditions.flag_tags!.includes(t))) return false;
  if (!conditions.type) return true;
  if (action !== 'feature_flag.update') return false;
  const before = new Map(intent.current_state.rollout_percentage.map((v) => [v.path, v.value]));
  const after = intent.gated_changes.rollout_percentage ?? [];
  const paths = new Set([...before.keys(), ...after.map((v) => v.path)]);
  const afterByPath = new Map(after.map((v) => [v.path, v.value]));
  const compare = conditions.operator ? COMPARE[conditions.operator]! : () => true;
  const threshold = conditions.value ?? 0;
  if (conditions.type === 'any_change') return [...paths].some((p) => before.get(p) !== afterByPath.get(p));
  if (conditions.type === 'before_after') return after.some((v) => compare(v.value, threshold));
  // change_amount: the rise (or fall) of a rollout that is there before and after
  return [...paths].some((p) => before.has(p) && afterByPath.has(p) && compare(afterByPath.get(p)! - before.get(p)!, threshold));
}

/** The flag as it is now, locked, or undefined when it is gone. */
export async function currentFlag(tx: Queryable, projectId: number, flagId: number): Promise<FlagState | undefined> {
  const [row] = await tx.query<FlagState>('SELECT * FROM feature_flags WHERE team_id = $1 AND id = $2 AND NOT deleted FOR UPDATE', [projectId, flagId]);
  return row;
}

/** Has the flag changed (or gone) since the request was made? */
export function isStale(flag: FlagState | undefined, intent: FlagIntent): boolean {
  // A request from before versions were kept (a deletion) is stale only once its flag is gone.
  return !flag || (intent.preconditions?.version !== undefined && flagVersion(flag) !== intent.preconditions.version);
}

/** Applies a held change as `actor` (the requester): its field changes, then its deletion. */
export async function applyFlagChange(tx: Queryable, actor: Actor, projectId: number, intent: FlagIntent): Promise<void> {
  const { deleted, ...patch } = intent.full_request_data;
  if (Object.keys(patch).length > 0) await updateFeatureFlag(tx, actor, projectId, intent.flag_id, patch);
  if (deleted) await deleteFeatureFlag(tx, actor, projectId, intent.flag_id);
}

/** A one-line description of the change, for `intent_display`. */
export function describeFlagChange(action: ActionKey, intent: FlagIntent): { description: string; before: unknown; after: unknown } {
  const verb = {
    'feature_flag.enable': 'Enable',
    'feature_flag.disable': 'Disable',
    'feature_flag.update': 'Update release conditions or rollout for',
    'feature_flag.delete': 'Delete',
  }[action];
  return { description: `${verb} feature flag '${intent.flag_key}'`, before: intent.current_state, after: intent.full_request_data };
}

export function requireFlag(flag: FlagState | undefined): FlagState {
  if (!flag) throw notFound();
  return flag;
}
