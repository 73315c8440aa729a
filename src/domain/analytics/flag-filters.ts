import { validation } from '../errors.js';
import { compileFlagRegex } from './flag-regex.js';
import {
  OPERATORS,
  type ConditionGroup,
  type FilterValue,
  type FlagFilters,
  type Operator,
  type PropertyFilter,
  type Scalar,
  type Variant,
} from './flag-evaluation.js';

/**
 * What a feature flag's `filters` may hold: the one place that parses and bounds them (groups,
 * property filters, rollout percentages, variants, payloads), with every problem reported against
 * `filters` in one sentence. Regexes must compile on RE2, the linear-time engine they run on.
 */

const MAX_GROUPS = 100;
const MAX_PROPERTIES = 100;
/** PostHog's MAX_PROPERTY_VALUES. */
const MAX_PROPERTY_VALUES = 1000;
const MAX_TEXT = 10_000;
const MAX_PATTERN = 1000;
export const VARIANT_KEY = /^[a-zA-Z0-9_-]{1,400}$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Every problem in filters is reported against `filters`, in one sentence. */
const fail = (message: string): never => {
  throw validation(message, 'filters');
};

function percentage(value: unknown, what: string, nullable: boolean): number | null {
  if (value === undefined || value === null) {
    if (nullable) return null;
    fail(`${what} must be a number between 0 and 100.`);
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) fail(`${what} must be a number between 0 and 100.`);
  return value as number;
}

function scalar(value: unknown, where: string): Scalar {
  if (typeof value === 'string') {
    if (value.length > MAX_TEXT) fail(`The value of ${where} is too long (at most ${MAX_TEXT} characters).`);
    return value;
  }
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return fail(`The value of ${where} must be a string, a number, a boolean or a list of them.`);
}

function property(raw: unknown, where: string): PropertyFilter {
  if (!isObject(raw)) return fail(`${where} must be an object.`);
  const type = raw.type ?? 'person';
  if (type !== 'person') {
    return fail(`Filters are not valid (can only use person properties; ${where} has type ${JSON.stringify(type)}).`);
  }
  if (typeof raw.key !== 'string' || raw.key.length === 0 || raw.key.length > 400) {
    return fail(`${where} needs a "key": the name of a person property (1 to 400 characters).`);
  }
  const operator = raw.operator ?? 'exact';
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    return fail(`${where} has an unknown operator ${JSON.stringify(operator)}; use one of: ${OPERATORS.join(', ')}.`);
  }
  const op = operator as Operator;
  if (op === 'is_set' || op === 'is_not_set') return { key: raw.key, type: 'person', operator: op, value: op };
  let value: FilterValue;
  if (Array.isArray(raw.value)) {
    if (op !== 'exact' && op !== 'is_not') fail(`The value of ${where} must be a single value for the operator ${op}.`);
    if (raw.value.length === 0) fail(`The value of ${where} must not be an empty list.`);
    if (raw.value.length > MAX_PROPERTY_VALUES) {
      fail(`Property group expressions of type ${raw.key} cannot contain more than ${MAX_PROPERTY_VALUES} values.`);
    }
    value = raw.value.map((v) => scalar(v, where));
  } else {
    if (raw.value === undefined || raw.value === null) return fail(`${where} needs a "value" for the operator ${op}.`);
    value = scalar(raw.value, where);
  }
  if ((op === 'regex' || op === 'not_regex' || op === 'icontains' || op === 'not_icontains') && typeof value !== 'string') {
    fail(`Invalid value for operator ${op}: ${JSON.stringify(value)} (expected a string).`);
  }
  if (op === 'regex' || op === 'not_regex') {
    const pattern = value as string;
    if (pattern.length > MAX_PATTERN) fail(`The regex in ${where} is too long (at most ${MAX_PATTERN} characters).`);
    const compiled = compileFlagRegex(pattern);
    if ('error' in compiled) fail(`The regex in ${where} is not a valid regular expression (${compiled.error}).`);
  }
  return { key: raw.key, type: 'person', operator: op, value };
}

function payloadText(value: unknown, key: string): string {
  if (typeof value === 'string') {
    if (value.length > 100_000) fail(`The payload for "${key}" is too long.`);
    try {
      JSON.parse(value);
    } catch {
      fail(`Payload value is not valid JSON (the payload for "${key}").`);
    }
    return value;
  }
  try {
    const serialized = JSON.stringify(value);
    if (serialized === undefined) throw new Error('not JSON');
    return serialized;
  } catch {
    return fail(`Payload value is not valid JSON (the payload for "${key}").`);
  }
}

/** Keys of `filters` that change who gets a flag and that Warden does not evaluate: refused, never silently dropped. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  aggregation_group_type_index: 'group-based flags are not supported',
  super_groups: 'super conditions (early access enrollment) are not supported',
  holdout: 'holdouts are not supported',
  holdout_groups: 'holdouts are not supported',
};

/**
 * Checks a flag's filters and returns them in the stored shape, or throws a 400 naming `filters`
 * that says what the first problem is. Unknown keys without effect on evaluation are dropped.
 */
export function parseFilters(raw: unknown): FlagFilters {
  if (!isObject(raw)) return fail('Filters must be an object like {"groups": [{"properties": [], "rollout_percentage": 100}]}.');
  for (const [key, why] of Object.entries(UNSUPPORTED)) {
    const value = raw[key];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) fail(`Filters are not valid (${why}).`);
  }
  if (!Array.isArray(raw.groups)) return fail('Filters must contain "groups": a list of condition groups.');
  if (raw.groups.length > MAX_GROUPS) fail(`Filters may have at most ${MAX_GROUPS} condition groups.`);

  let multivariate: FlagFilters['multivariate'] = null;
  if (raw.multivariate !== undefined && raw.multivariate !== null) {
    if (!isObject(raw.multivariate) || !Array.isArray(raw.multivariate.variants)) {
      fail('"multivariate" must be an object with a list of "variants".');
    }
    const list = (raw.multivariate as { variants: unknown[] }).variants;
    if (list.length === 0) fail('Invalid variant definitions: a multivariate flag needs at least one variant.');
    if (list.length > MAX_GROUPS) fail(`A flag may have at most ${MAX_GROUPS} variants.`);
    const variants = list.map((v, i): Variant => {
      if (!isObject(v) || typeof v.key !== 'string' || !VARIANT_KEY.test(v.key)) {
        return fail(`Invalid variant definitions: variant ${i} needs a "key" of letters, numbers, hyphens (-) and underscores (_).`);
      }
      if (v.name !== undefined && v.name !== null && (typeof v.name !== 'string' || v.name.length > MAX_TEXT)) {
        fail(`Invalid variant definitions: the name of variant "${v.key}" must be a string.`);
      }
      const rollout = percentage(v.rollout_percentage, `The rollout percentage of variant "${v.key}"`, false)!;
      return { key: v.key, name: typeof v.name === 'string' ? v.name : '', rollout_percentage: rollout };
    });
    if (new Set(variants.map((v) => v.key)).size !== variants.length) fail('Invalid variant definitions: variant keys must be unique.');
    const sum = variants.reduce((total, v) => total + v.rollout_percentage, 0);
    if (Math.abs(sum - 100) > 1e-9) fail('Invalid variant definitions: Variant rollout percentages must sum to 100.');
    multivariate = { variants };
  }
  const variantKeys = new Set(multivariate?.variants.map((v) => v.key) ?? []);

  const groups = raw.groups.map((g, i): ConditionGroup => {
    const where = `condition group ${i}`;
    if (!isObject(g)) return fail(`Each condition group must be an object (${where} is not).`);
    if (g.properties !== undefined && g.properties !== null && !Array.isArray(g.properties)) fail(`The "properties" of ${where} must be a list.`);
    const props = (g.properties as unknown[] | undefined | null) ?? [];
    if (props.length > MAX_PROPERTIES) fail(`A condition group may have at most ${MAX_PROPERTIES} properties (${where} has ${props.length}).`);
    const rollout = percentage(g.rollout_percentage, `The rollout percentage of ${where}`, true);
    let variant: string | null = null;
    if (g.variant !== undefined && g.variant !== null) {
      if (typeof g.variant !== 'string' || !variantKeys.has(g.variant)) fail('Filters are not valid (variant override does not exist)');
      variant = g.variant as string;
    }
    return { properties: props.map((p, j) => property(p, `property ${j} of ${where}`)), rollout_percentage: rollout, variant };
  });

  const payloads: Record<string, string> = {};
  if (raw.payloads !== undefined && raw.payloads !== null) {
    if (!isObject(raw.payloads)) fail('Payloads must be passed as a dictionary');
    for (const [key, value] of Object.entries(raw.payloads as Record<string, unknown>)) {
      if (value === null || value === undefined || value === '') continue;
      if (multivariate ? !variantKeys.has(key) : key !== 'true') {
        fail(multivariate ? 'Payload keys must match a variant key for multivariate flags' : "Payload keys must be 'true' for boolean flags");
      }
      payloads[key] = payloadText(value, key);
    }
  }
  return { groups, multivariate, payloads };
}
