import { hash as oneShotHash } from 'node:crypto';
import { flagRegexMatches } from './flag-regex.js';

/**
 * Feature-flag evaluation, agreeing with PostHog (posthog/models/feature_flag/flag_matching.py, the
 * Rust flags service, and the SDKs' local evaluation) so that a user gets the same answer from
 * Warden's /flags, from a PostHog SDK evaluating locally, and from PostHog itself. Pure: no I/O.
 * What `filters` may hold is checked where flags are written (src/domain/analytics/feature-flags.ts).
 */

export const OPERATORS = ['exact', 'is_not', 'icontains', 'not_icontains', 'regex', 'not_regex', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Scalar = string | number | boolean;
export type FilterValue = Scalar | Scalar[];

export interface PropertyFilter {
  key: string;
  type: 'person';
  operator: Operator;
  value: FilterValue | null;
}

export interface ConditionGroup {
  properties: PropertyFilter[];
  /** 0..100; null = everyone who matches the properties. */
  rollout_percentage: number | null;
  /** Forces this variant for the group (must be one of the flag's variants). */
  variant: string | null;
}

export interface Variant {
  key: string;
  name: string;
  rollout_percentage: number;
}

export interface FlagFilters {
  groups: ConditionGroup[];
  multivariate: { variants: Variant[] } | null;
  /** Payload per flag value: "true" for boolean flags, variant keys for multivariate ones. JSON text. */
  payloads: Record<string, string>;
}

export interface EvaluableFlag {
  key: string;
  active: boolean;
  filters: FlagFilters;
}

export type ReasonCode = 'condition_match' | 'no_condition_match' | 'out_of_rollout_bound' | 'flag_disabled';

export interface FlagEvaluation {
  key: string;
  enabled: boolean;
  variant: string | null;
  reason: { code: ReasonCode; condition_index: number | null; description: string };
  /** The payload for the value the flag took (JSON text), or null. */
  payload: string | null;
}

// ---------------------------------------------------------------------------------------------
// Hashing

const LONG_SCALE = 0xfffffffffffffff;

/**
 * PostHog's bucketing hash: sha1(`${key}.${bucketingValue}${salt}`), the first 15 hex digits as an
 * integer, divided by 0xFFFFFFFFFFFFFFF. Computed in doubles exactly as the JavaScript SDKs do
 * (parseInt then divide), so a locally evaluating posthog-node client and Warden agree bit for bit.
 */
export function flagHash(key: string, bucketingValue: string, salt = ''): number {
  // One-shot crypto.hash: /flags hashes once per flag per request, and createHash costs four times as much.
  const hex = oneShotHash('sha1', `${key}.${bucketingValue}${salt}`, 'hex');
  return parseInt(hex.slice(0, 15), 16) / LONG_SCALE;
}

/** The variant a user falls into: the variant hash (salt "variant") against cumulative rollout ranges. */
export function variantFor(key: string, bucketingValue: string, variants: readonly Variant[]): string | null {
  const hash = flagHash(key, bucketingValue, 'variant');
  let min = 0;
  for (const variant of variants) {
    const max = min + variant.rollout_percentage / 100;
    if (hash >= min && hash < max) return variant.key;
    min = max;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Property matching

/** Regex inputs longer than this never match: bounds the work one request can cause. */
export const MAX_REGEX_INPUT = 10_000;
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (value === null || value === undefined) return 'null';
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  return parseFloat(text(value));
}

function compare(actual: unknown, target: unknown, operator: 'gt' | 'gte' | 'lt' | 'lte'): boolean {
  const a = numberOf(actual);
  const b = numberOf(target);
  const [lhs, rhs]: [number | string, number | string] = Number.isFinite(a) && Number.isFinite(b) ? [a, b] : [text(actual), text(target)];
  switch (operator) {
    case 'gt':
      return lhs > rhs;
    case 'gte':
      return lhs >= rhs;
    case 'lt':
      return lhs < rhs;
    case 'lte':
      return lhs <= rhs;
  }
}

function exactly(target: FilterValue | null, actual: unknown): boolean {
  const wanted = Array.isArray(target) ? target : [target];
  const seen = text(actual).toLowerCase();
  return wanted.some((v) => text(v).toLowerCase() === seen);
}

function regexMatches(pattern: FilterValue | null, actual: unknown): boolean | null {
  const value = text(actual);
  if (value.length > MAX_REGEX_INPUT) return null;
  return flagRegexMatches(text(pattern), value);
}

/** Operators that still compare when the property is present but null (as PostHog's SDKs do). */
const NULL_COMPARABLE: ReadonlySet<Operator> = new Set(['exact', 'is_not', 'icontains', 'not_icontains', 'regex', 'not_regex']);

/**
 * Does one property filter match these person properties? The properties are everything known
 * about the person (Warden keeps no person store): a property that is absent is not set.
 */
export function matchesProperty(filter: PropertyFilter, properties: Readonly<Record<string, unknown>>): boolean {
  const present = Object.hasOwn(properties, filter.key);
  if (filter.operator === 'is_not_set') return !present;
  if (!present) return false;
  if (filter.operator === 'is_set') return true;
  const actual = properties[filter.key];
  if (actual === null && !NULL_COMPARABLE.has(filter.operator)) return false;
  const { value } = filter;
  switch (filter.operator) {
    case 'exact':
      return exactly(value, actual);
    case 'is_not':
      return !exactly(value, actual);
    case 'icontains':
      return text(actual).toLowerCase().includes(text(value).toLowerCase());
    case 'not_icontains':
      return !text(actual).toLowerCase().includes(text(value).toLowerCase());
    case 'regex':
      return regexMatches(value, actual) === true;
    case 'not_regex':
      return regexMatches(value, actual) === false;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compare(actual, value, filter.operator);
  }
}

// ---------------------------------------------------------------------------------------------
// Flag evaluation

const REASON_SCORE: Record<ReasonCode, number> = { condition_match: 4, out_of_rollout_bound: 3, no_condition_match: 2, flag_disabled: 0 };

function payloadFor(flag: EvaluableFlag, value: string): string | null {
  const payloads = flag.filters.payloads ?? {};
  return Object.hasOwn(payloads, value) ? (payloads[value] ?? null) : null;
}

/** Whether every filter matches (a plain loop: /flags runs this for every group of every flag). */
function matchesEvery(filters: readonly PropertyFilter[], properties: Readonly<Record<string, unknown>>): boolean {
  for (let i = 0; i < filters.length; i++) if (!matchesProperty(filters[i]!, properties)) return false;
  return true;
}

/**
 * Evaluates one flag for one distinct id: the first condition group whose properties all match
 * and whose rollout takes the user (hash <= rollout / 100, as PostHog compares) wins; its variant
 * override, else the variant hash, picks the variant of a multivariate flag. When nothing matches
 * the reason is the most informative one seen (out of rollout beats no match), as PostHog reports.
 */
export function evaluateFlag(flag: EvaluableFlag, distinctId: string, properties: Readonly<Record<string, unknown>> = {}): FlagEvaluation {
  if (!flag.active) {
    return {
      key: flag.key,
      enabled: false,
      variant: null,
      reason: { code: 'flag_disabled', condition_index: null, description: 'Feature flag is disabled' },
      payload: null,
    };
  }
  const groups = flag.filters.groups ?? [];
  const variants = flag.filters.multivariate?.variants ?? [];
  let hash: number | undefined;
  let best: { code: ReasonCode; index: number | null } = { code: 'no_condition_match', index: groups.length > 0 ? 0 : null };
  for (let index = 0; index < groups.length; index++) {
    const group = groups[index]!;
    let code: ReasonCode;
    if (!matchesEvery(group.properties ?? [], properties)) {
      code = 'no_condition_match';
    } else if (
      group.rollout_percentage !== null &&
      group.rollout_percentage !== undefined &&
      (hash ??= flagHash(flag.key, distinctId)) > group.rollout_percentage / 100
    ) {
      code = 'out_of_rollout_bound';
    } else {
      const override = group.variant && variants.some((v) => v.key === group.variant) ? group.variant : null;
      const variant = variants.length > 0 ? (override ?? variantFor(flag.key, distinctId, variants)) : null;
      return {
        key: flag.key,
        enabled: true,
        variant,
        reason: { code: 'condition_match', condition_index: index, description: `Matched condition set ${index + 1}` },
        payload: payloadFor(flag, variant ?? 'true'),
      };
    }
    if (REASON_SCORE[code] > REASON_SCORE[best.code]) best = { code, index };
  }
  const description = best.code === 'out_of_rollout_bound' ? 'Out of rollout bound' : 'No matching condition set';
  return { key: flag.key, enabled: false, variant: null, reason: { code: best.code, condition_index: best.index, description }, payload: null };
}

/** The value an SDK sees: the variant of a multivariate flag, else whether it is enabled. */
export const flagValue = (e: FlagEvaluation): string | boolean => e.variant ?? e.enabled;

/** One condition group, no properties: PostHog calls such a flag "simple". */
export const isSimpleFlag = (filters: FlagFilters): boolean => (filters.groups ?? []).length === 1 && (filters.groups[0]!.properties ?? []).length === 0;
