import { cacheOf } from '../../cache/caching-database.js';
import { readThrough } from '../../cache/read-through.js';
import { organizationIdOf } from '../organizations/projects.js';
import { PgCode, pgErrorCode, type Queryable } from '../../store/database.js';
import { qb, row, rows, sql, type Selectable, type Narrow } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { diffFields, recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, validation } from '../errors.js';
import type { FlagFilters } from './flag-evaluation.js';
import { parseFilters } from './flag-filters.js';

/**
 * Feature flags (PostHog's FeatureFlag): CRUD with its activity entries, each written in the
 * transaction of its change (scope FeatureFlag, item = the flag's id, name = its key). Deleting is
 * soft (`deleted: true`), and deleted flags are gone for every reader. `deleteFeatureFlag` is the one
 * place a flag is deleted: the DELETE route calls it, and an approved change request calls it later
 * (src/domain/access-control/change-requests.ts). Who may do what is decided by the callers, through the resource
 * gate (src/domain/access-control/resource-access.ts). What `filters` may hold is src/domain/analytics/flag-filters.ts.
 */
export type FeatureFlagRecord = Narrow<Selectable<DB['feature_flags']>, { filters: FlagFilters }>;

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

export interface FlagPage {
  /** How many flags match (and are visible), across all pages. */
  count: number;
  results: FeatureFlagRecord[];
}

/** Of candidate flags (id and creator only), those the reader may see. */
export type VisibleFlags = <F extends { id: number; created_by_id: number | null }>(candidates: readonly F[]) => Promise<F[]>;

/** The project's flags that are not deleted, matching the list's search and active filter. */
const listed = (projectId: number, search: string | null, active: boolean | null) =>
  qb
    .selectFrom('feature_flags')
    .where('team_id', '=', projectId)
    .where((eb) => eb.not(eb.ref('deleted')))
    .where(sql<boolean>`(${search}::text IS NULL OR key ILIKE ${search} OR name ILIKE ${search})`)
    .where(sql<boolean>`(${active}::boolean IS NULL OR active = ${active})`);

/**
 * One page of the project's flags that are not deleted, newest first, paged by the database: only
 * the page's rows are read. `visible` is given when per-flag access rules may hide some flags from
 * the reader: then the ids and creators of the matching flags are read to decide, and only the
 * visible page's rows in full.
 */
export async function listFeatureFlagPage(
  q: Queryable,
  projectId: number,
  options: FlagListOptions,
  page: { limit: number; offset: number },
  visible?: VisibleFlags,
): Promise<FlagPage> {
  const search = options.search ? `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const flags = listed(projectId, search, options.active ?? null);
  if (!visible) {
    const { n } = (await row(q, flags.select(sql<number>`count(*)::int`.as('n')))) ?? { n: 0 };
    const results =
      n > page.offset ? await rows(q, flags.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset)) : [];
    return { count: n, results: results as FeatureFlagRecord[] };
  }
  const candidates = await rows(q, flags.select(['id', 'created_by_id']).orderBy('created_at', 'desc').orderBy('id', 'desc'));
  const shown = await visible(candidates);
  const ids = shown.slice(page.offset, page.offset + page.limit).map((f) => f.id);
  if (ids.length === 0) return { count: shown.length, results: [] };
  const found = await rows(q, qb.selectFrom('feature_flags').selectAll().where('team_id', '=', projectId).where('id', '=', sql<number>`ANY(${ids}::int[])`));
  const byId = new Map((found as FeatureFlagRecord[]).map((r) => [r.id, r]));
  // A flag deleted between the two reads drops out of this page.
  return { count: shown.length, results: ids.map((id) => byId.get(id)).filter((f): f is FeatureFlagRecord => f !== undefined && !f.deleted) };
}

/** A flag as evaluation needs it. */
export type EvaluationFlagRecord = Omit<FeatureFlagRecord, 'created_at' | 'updated_at'>;

interface ProjectFlags {
  /** Not deleted, in id order. */
  list: readonly FeatureFlagRecord[];
  byId: ReadonlyMap<number, FeatureFlagRecord>;
  /** Each flag's row version (xmin: every update writes a new one), to refresh only what changed. */
  versions: ReadonlyMap<number, string>;
}

type VersionedFlag = FeatureFlagRecord & { row_version?: string };
const VERSIONED = 'SELECT xmin::text AS row_version, * FROM feature_flags';

function projectFlagsOf(rows: readonly VersionedFlag[]): ProjectFlags {
  const versions = new Map<number, string>();
  const list = rows.map(({ row_version, ...flag }) => {
    versions.set(flag.id, row_version!);
    return flag;
  });
  return { list, byId: new Map(list.map((f) => [f.id, f])), versions };
}

/**
 * A project's live flags, held by the access cache (SDKs poll them, and reading one is the hot
 * route of the flags API): any change to the project's flags makes them stale (`flags:<project>`).
 * Refreshing a stale copy reads every flag's id and row version, and in full only the flags that
 * are new or changed: a write to one flag of thousands costs one row, not thousands; the unchanged
 * flags' objects are shared with the stale copy.
 */
function projectFlags(q: Queryable, projectId: number): Promise<ProjectFlags> {
  return readThrough(
    q,
    'flags',
    String(projectId),
    async (stale?: ProjectFlags) => {
      if (!stale) return projectFlagsOf(await q.query<VersionedFlag>(`${VERSIONED} WHERE team_id = $1 AND NOT deleted ORDER BY id`, [projectId]));
      const current = await q.query<{ id: number; row_version: string }>(
        'SELECT id, xmin::text AS row_version FROM feature_flags WHERE team_id = $1 AND NOT deleted ORDER BY id',
        [projectId],
      );
      const changed = current.filter((r) => stale.versions.get(r.id) !== r.row_version).map((r) => r.id);
      const fresh = changed.length === 0 ? [] : await q.query<VersionedFlag>(`${VERSIONED} WHERE team_id = $1 AND id = ANY($2::int[])`, [projectId, changed]);
      const freshById = new Map(fresh.map((f) => [f.id, f]));
      const list: FeatureFlagRecord[] = [];
      const versions = new Map<number, string>();
      for (const { id, row_version } of current) {
        const changedFlag = freshById.get(id);
        if (!changedFlag) {
          list.push(stale.byId.get(id)!);
          versions.set(id, row_version);
        } else if (!changedFlag.deleted) {
          // Changed again between the two reads: its newest version counts (and the change's
          // invalidation makes this copy stale at once).
          const { row_version: version, ...flag } = changedFlag;
          list.push(flag);
          versions.set(id, version!);
        }
      }
      return { list, byId: new Map(list.map((f) => [f.id, f])), versions };
    },
    () => [`flags:${projectId}`],
  );
}

/** Every flag an SDK evaluates (not deleted; inactive ones evaluate to false), in id order. */
export async function flagsForEvaluation(q: Queryable, projectId: number): Promise<readonly EvaluationFlagRecord[]> {
  return (await projectFlags(q, projectId)).list;
}

/**
 * The flag, if it exists in the project and is not deleted; `lock` holds it for this transaction
 * (and so reads the database, as every read inside a transaction does).
 */
export async function findFeatureFlag(q: Queryable, projectId: number, flagId: number, lock = false): Promise<FeatureFlagRecord | undefined> {
  if (!lock && cacheOf(q)) return (await projectFlags(q, projectId)).byId.get(flagId);
  const query = qb
    .selectFrom('feature_flags')
    .selectAll()
    .where('team_id', '=', projectId)
    .where('id', '=', flagId)
    .where((eb) => eb.not(eb.ref('deleted')));
  return (await row(q, lock ? query.forUpdate() : query)) as FeatureFlagRecord | undefined;
}

export async function requireFeatureFlag(q: Queryable, projectId: number, flagId: number, lock = false): Promise<FeatureFlagRecord> {
  const flag = await findFeatureFlag(q, projectId, flagId, lock);
  if (!flag) throw notFound();
  return flag;
}

/** The project a project token (phc_…) belongs to. */
export async function findProjectByToken(q: Queryable, token: string): Promise<{ id: number; organization_id: string } | undefined> {
  return readThrough(
    q,
    'project_token',
    token,
    async () => (await q.query<{ id: number; organization_id: string }>('SELECT id, organization_id FROM projects WHERE api_token = $1', [token]))[0],
    (project) => [`project:${project.id}`],
  );
}

async function requireFreeKey(q: Queryable, projectId: number, key: string, exceptId: number | null): Promise<void> {
  const taken = await q.query('SELECT 1 FROM feature_flags WHERE team_id = $1 AND key = $2 AND NOT deleted AND ($3::integer IS NULL OR id <> $3) LIMIT 1', [
    projectId,
    key,
    exceptId,
  ]);
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
  tags?: readonly string[];
}

/** Tags as stored: trimmed, without blanks or repeats, in the order given. */
function flagTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t.length > 0))];
}

export async function createFeatureFlag(tx: Queryable, actor: Actor, projectId: number, input: NewFeatureFlag): Promise<FeatureFlagRecord> {
  const key = validateFlagKey(input.key);
  const filters = input.filters === undefined ? DEFAULT_FILTERS : parseFilters(input.filters);
  const organizationId = await organizationIdOf(tx, projectId);
  await requireFreeKey(tx, projectId, key, null);
  const [flag] = await writeGuardingKey(() =>
    tx.query<FeatureFlagRecord>(
      `INSERT INTO feature_flags (team_id, key, name, filters, active, ensure_experience_continuity, created_by_id, tags)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::text[]) RETURNING *`,
      [
        projectId,
        key,
        input.name ?? '',
        JSON.stringify(filters),
        input.active ?? true,
        input.ensure_experience_continuity ?? false,
        actor.userId,
        flagTags(input.tags ?? []),
      ],
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
  tags?: readonly string[];
}

const UPDATABLE = ['key', 'name', 'filters', 'active', 'ensure_experience_continuity', 'tags'] as const;

/** Changes a flag's fields (deleting is `deleteFeatureFlag`'s). A patch that changes nothing writes nothing. */
export async function updateFeatureFlag(tx: Queryable, actor: Actor, projectId: number, flagId: number, patch: FeatureFlagPatch): Promise<FeatureFlagRecord> {
  const before = await requireFeatureFlag(tx, projectId, flagId, true);
  const next: FeatureFlagRecord = { ...before };
  if (patch.key !== undefined) next.key = validateFlagKey(patch.key);
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.filters !== undefined) next.filters = parseFilters(patch.filters);
  if (patch.active !== undefined) next.active = patch.active;
  if (patch.ensure_experience_continuity !== undefined) next.ensure_experience_continuity = patch.ensure_experience_continuity;
  if (patch.tags !== undefined) next.tags = flagTags(patch.tags);
  const changes = diffFields(before, next, UPDATABLE, SCOPE);
  if (changes.length === 0) return before;
  if (next.key !== before.key) await requireFreeKey(tx, projectId, next.key, flagId);
  const [after] = await writeGuardingKey(() =>
    tx.query<FeatureFlagRecord>(
      `UPDATE feature_flags SET key = $3, name = $4, filters = $5::jsonb, active = $6, ensure_experience_continuity = $7, tags = $8::text[],
        updated_at = now() WHERE team_id = $1 AND id = $2 RETURNING *`,
      [projectId, flagId, next.key, next.name, JSON.stringify(next.filters), next.active, next.ensure_experience_continuity, next.tags],
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
