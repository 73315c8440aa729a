/**
 * The vocabulary of approval policies: the action keys, conditions, approver configuration, the
 * stored row and the input a route hands over (src/domain/access-control/approval-policies.ts uses them).
 */
import type { Narrow, Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';

export const ACTION_KEYS = ['feature_flag.enable', 'feature_flag.disable', 'feature_flag.update', 'feature_flag.delete'] as const;
export type ActionKey = (typeof ACTION_KEYS)[number];
/** The first version's action names. */
export const LEGACY_ACTIONS: Readonly<Record<string, ActionKey>> = { delete_feature_flag: 'feature_flag.delete' };
export const legacyActionOf = (key: string) => Object.entries(LEGACY_ACTIONS).find(([, k]) => k === key)?.[0] ?? key;

export const CONDITION_TYPES = ['any_change', 'before_after', 'change_amount'] as const;
export const OPERATORS = ['>', '<', '>=', '<=', '==', '!='] as const;

export interface ApproverConfig {
  quorum: number;
  users: number[];
  roles: string[];
}

export interface PolicyConditions {
  type?: (typeof CONDITION_TYPES)[number];
  field?: 'rollout_percentage';
  operator?: (typeof OPERATORS)[number];
  value?: number;
  /** Warden: only flags with at least one of these tags. */
  flag_tags?: string[];
  /** Warden: only these projects (an organization's production projects, say). */
  project_ids?: number[];
}

/** An approval policy row; its JSON columns narrowed to their documents (src/store/schema.ts). */
export type ApprovalPolicyRecord = Narrow<Selectable<DB['approval_policies']>, { conditions: PolicyConditions; approver_config: ApproverConfig }>;

export interface PolicyInput {
  action_key?: string;
  /** The first version's field: `delete_feature_flag`. */
  action?: string;
  role?: string | null;
  conditions?: PolicyConditions;
  approver_config?: { quorum: number; users?: number[]; roles?: string[] };
  allow_self_approve?: boolean;
  bypass_org_membership_levels?: number[];
  bypass_roles?: string[];
  bypass_object_managers?: boolean;
  expires_after?: string | number;
  enabled?: boolean;
}

/** The caller: its organization level, in a project or in an organization. */
export type PolicyCaller = { organizationLevel: number } & ({ projectId: number } | { organizationId: string });
