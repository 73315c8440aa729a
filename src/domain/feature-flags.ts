import { organizationIdOf } from './projects.js';
import { PgCode, pgErrorCode, type Queryable } from '../store/database.js';
import { diffFields, recordActivity } from './activity.js';
import type { Actor } from './actor.js';
import { notFound, validation } from './errors.js';
import { OPERATORS, type ConditionGroup, type FilterValue, type FlagFilters, type Operator, type PropertyFilter, type Scalar, type Variant } from './flag-evaluation.js';

/**
 * Feature flags (PostHog's FeatureFlag): CRUD with its activity entries, each written in the
 * transaction of its change (scope FeatureFlag, item = the flag's id, name = its key). Deleting is
 * soft (`deleted: true`), and deleted flags are gone for every reader. `deleteFeatureFlag` is the one
 * place a flag is deleted: the DELETE route calls it, and an approved change request calls it later
 * (src/domain/change-requests.ts). Who may do what is decided by the callers, through the resource
 * gate (src/domain/resource-access.ts). Also the one place that says what `filters` may hold.
 */
export interface FeatureFlagRecord {
  id: number;
  team_id: number;
  key: string;
  name: string;
  filters: FlagFilters;
  active: boolean;
  deleted: boolean;
  ensure_experience_continuity: boolean;
  created_by_id: number | null;
  created_at: Date;
  updated_at: Date;
}

export const DUPLICATE_KEY = 'There is already a feature flag with this key.';
export const INVALID_KEY = 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.';
const FLAG_KEY = /^[a-zA-Z0-9_-]+$/;
const SCOPE = 'FeatureFlag';

/** A blank flag is released to everyone who matches nothing in particular, as in PostHog. */
export const DEFAULT_FILTERS: FlagFilters = { groups: [{ properties: [], rollout_percentage: null, variant: null }], multivariate: null, payloads: {} };

export function validateFlagKey(key: string): string {
  if (!FLAG_KEY.test(key)) throw validation(INVALID_KEY, 'key', 'invalid_key');
  return key;
}

/** A flag id from a path: a positive integer that fits the column, else there is no such flag. */
export function parseFlagId(raw: string): number {
  if (!/^\d{1,10}$/.test(raw)) throw notFound();
  const id = Number(raw);
  if (id < 1 || id > 2_147_483_647) throw notFound();
  return id;
}

export interface FlagListOptions {
  /** Case-insensitive match on key or name. */
  search?: string;
  active?: boolean;
}

/** The project's flags that are not deleted, newest first. */
export async function listFeatureFlags(q: Queryable, projectId: number, options: FlagListOptions = {}): Promise<FeatureFlagRecord[]> {
  const search = options.search ? `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return q.query<FeatureFlagRecord>(
    `SELECT * FROM feature_flags
      WHERE team_id = $1 AND NOT deleted
        AND ($2::text IS NULL OR key ILIKE $2 OR name ILIKE $2)
        AND ($3::boolean IS NULL OR active = $3)
      ORDER BY created_at DESC, id DESC`,
    [projectId, search, options.active ?? null],
  );
}

/** A flag as evaluation needs it: no timestamps (SDKs poll this often; every column costs). */
export type EvaluationFlagRecord = Omit<FeatureFlagRecord, 'created_at' | 'updated_at'>;

/** Every flag an SDK evaluates (not deleted; inactive ones evaluate to false), in id order. */
export async function flagsForEvaluation(q: Queryable, projectId: number): Promise<EvaluationFlagRecord[]> {
  return q.query<EvaluationFlagRecord>(
    `SELECT id, team_id, key, name, filters, active, deleted, ensure_experience_continuity, created_by_id
       FROM feature_flags WHERE team_id = $1 AND NOT deleted ORDER BY id`,
    [projectId],
  );
}

/** The flag, if it exists in the project and is not deleted; `lock` holds it for this transaction. */
export async function findFeatureFlag(q: Queryable, projectId: number, flagId: number, lock = false): Promise<FeatureFlagRecord | undefined> {
  const [row] = await q.query<FeatureFlagRecord>(
    `SELECT * FROM feature_flags WHERE team_id = $1 AND id = $2 AND NOT deleted${lock ? ' FOR UPDATE' : ''}`,
    [projectId, flagId],
  );
  return row;
}

export async function requireFeatureFlag(q: Queryable, projectId: number, flagId: number, lock = false): Promise<FeatureFlagRecord> {
  const flag = await findFeatureFlag(q, projectId, flagId, lock);
  if (!flag) throw notFound();
  return flag;
}

/** The project a project token (phc_…) belongs to. */
export async function findProjectByToken(q: Queryable, token: string): Promise<{ id: number; organization_id: string } | undefined> {
  const [row] = await q.query<{ id: number; organization_id: string }>('SELECT id, organization_id FROM projects WHERE api_token = $1', [token]);
  return row;
}


async function requireFreeKey(q: Queryable, projectId: number, key: string, exceptId: number | null): Promise<void> {
  const taken = await q.query(
    'SELECT 1 FROM feature_flags WHERE team_id = $1 AND key = $2 AND NOT deleted AND ($3::integer IS NULL OR id <> $3) LIMIT 1',
    [projectId, key, exceptId],
  );
  if (taken.length > 0) throw validation(DUPLICATE_KEY, 'key', 'unique');
}

/** Two writers racing for one key: the unique index decides, and the loser gets PostHog's message. */
async function writeGuardingKey<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (pgErrorCode(e) === PgCode.uniqueViolation) throw validation(DUPLICATE_KEY, 'key', 'unique');
    throw e;
  }
}

export interface NewFeatureFlag {
  key: string;
  name?: string;
  filters?: unknown;
  active?: boolean;
  ensure_experience_continuity?: boolean;
}

export async function createFeatureFlag(tx: Queryable, actor: Actor, projectId: number, input: NewFeatureFlag): Promise<FeatureFlagRecord> {
  const key = validateFlagKey(input.key);
  const filters = input.filters === undefined ? DEFAULT_FILTERS : parseFilters(input.filters);
  const organizationId = await organizationIdOf(tx, projectId);
  await requireFreeKey(tx, projectId, key, null);
  const [flag] = await writeGuardingKey(() =>
    tx.query<FeatureFlagRecord>(
      `INSERT INTO feature_flags (team_id, key, name, filters, active, ensure_experience_continuity, created_by_id)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7) RETURNING *`,
      [projectId, key, input.name ?? '', JSON.stringify(filters), input.active ?? true, input.ensure_experience_continuity ?? false, actor.userId],
    ),
  );
  await recordActivity(tx, {
    organizationId,
    teamId: projectId,
    actor,
    scope: SCOPE,
    activity: 'created',
    itemId: flag!.id,
    detail: { name: flag!.key },
  });
  return flag!;
}

export interface FeatureFlagPatch {
  key?: string;
  name?: string;
  filters?: unknown;
  active?: boolean;
  ensure_experience_continuity?: boolean;
}

const UPDATABLE = ['key', 'name', 'filters', 'active', 'ensure_experience_continuity'] as const;

/** Changes a flag's fields (deleting is `deleteFeatureFlag`'s). A patch that changes nothing writes nothing. */
export async function updateFeatureFlag(
  tx: Queryable,
  actor: Actor,
  projectId: number,
  flagId: number,
  patch: FeatureFlagPatch,
): Promise<FeatureFlagRecord> {
  const before = await requireFeatureFlag(tx, projectId, flagId, true);
  const next: FeatureFlagRecord = { ...before };
  if (patch.key !== undefined) next.key = validateFlagKey(patch.key);
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.filters !== undefined) next.filters = parseFilters(patch.filters);
  if (patch.active !== undefined) next.active = patch.active;
  if (patch.ensure_experience_continuity !== undefined) next.ensure_experience_continuity = patch.ensure_experience_continuity;
  const changes = diffFields(before, next, UPDATABLE, SCOPE);
  if (changes.length === 0) return before;
  if (next.key !== before.key) await requireFreeKey(tx, projectId, next.key, flagId);
  const [after] = await writeGuardingKey(() =>
    tx.query<FeatureFlagRecord>(
      `UPDATE feature_flags SET key = $3, name = $4, filters = $5::jsonb, active = $6, ensure_experience_continuity = $7, updated_at = now()
        WHERE team_id = $1 AND id = $2 RETURNING *`,
      [projectId, flagId, next.key, next.name, JSON.stringify(next.filters), next.active, next.ensure_experience_continuity],
    ),
  );
  await recordActivity(tx, {
    organizationId: await organizationIdOf(tx, projectId),
    teamId: projectId,
    actor,
    scope: SCOPE,
    activity: 'updated',
    itemId: flagId,
    detail: { name: after!.key, changes },
  });
  return after!;
}

/**
 * Soft-deletes a flag (PostHog keeps the row with `deleted: true`; its key becomes free again) and
 * logs it. The caller has decided that `actor` may: the DELETE route through the resource gate, an
 * approved change request through its approval. A flag already deleted, or in another project, is
 * not found.
 */
export async function deleteFeatureFlag(tx: Queryable, actor: Actor, projectId: number, flagId: number): Promise<void> {
  const flag = await requireFeatureFlag(tx, projectId, flagId, true);
  await tx.query('UPDATE feature_flags SET deleted = true, updated_at = now() WHERE team_id = $1 AND id = $2', [projectId, flagId]);
  await recordActivity(tx, {
    organizationId: await organizationIdOf(tx, projectId),
    teamId: projectId,
    actor,
    scope: SCOPE,
    activity: 'deleted',
    itemId: flagId,
    detail: { name: flag.key, changes: [{ type: SCOPE, action: 'changed', field: 'deleted', before: false, after: true }] },
  });
}

// ---------------------------------------------------------------------------------------------
// What filters may hold

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

/**
 * Does a regex repeat a group that itself repeats something or offers alternatives, like (a+)+ or
 * (a|aa)*? With a backtracking engine such a pattern can take exponential time on a short input,
 * and anyone holding the project token chooses the input. (PostHog evaluates regexes with
 * linear-time engines; Node's is not one.) Conservative: it also refuses some harmless patterns.
 */
export function hasRiskyRepetition(pattern: string): boolean {
  // Per open group: does it contain a quantifier or an alternation?
  const ambiguous: boolean[] = [false];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') ambiguous.push(false);
    else if (c === ')') {
      const inner = ambiguous.length > 1 ? ambiguous.pop()! : false;
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}/.test(pattern.slice(i + 1)));
      if (repeated && inner) return true;
      if (inner || repeated) ambiguous[ambiguous.length - 1] = true;
    } else if (c === '*' || c === '+' || c === '{' || c === '|') {
      ambiguous[ambiguous.length - 1] = true;
    }
  }
  return false;
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
    try {
      new RegExp(pattern);
    } catch {
      fail(`The regex in ${where} is not a valid regular expression.`);
    }
    if (hasRiskyRepetition(pattern)) {
      fail(
        `The regex in ${where} repeats a group that itself repeats or has alternatives (like (a+)+ or (a|aa)*), which can take exponential time; rewrite it without such nesting.`,
      );
    }
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
