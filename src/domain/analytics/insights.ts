import type { Queryable } from '../../store/database.js';
import { qb, row, rows, sql, type Selectable, type Narrow } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { diffFields, recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, validation } from '../errors.js';
import { checkStorableJson } from './events.js';
import { requireAccess, type ResourceActor } from '../access-control/resource-access.js';
import { randomBase62 } from '../identity/tokens.js';

/**
 * Insights (PostHog's saved queries): CRUD with soft delete, every change with its `Insight`
 * activity entry in the same transaction, every step through the resource gate. An insight is put
 * on dashboards through its `dashboards` field, as PostHog's API does.
 */
export type InsightRecord = Narrow<Selectable<DB['insights']>, { query: Record<string, unknown> | null; filters: Record<string, unknown> }>;

export interface InsightInput {
  name?: string | null;
  description?: string | null;
  query?: Record<string, unknown> | null;
  filters?: Record<string, unknown> | null;
  dashboards?: number[];
  deleted?: boolean;
}

/** An insight with the dashboards it is on (live dashboards only). */
export type InsightView = InsightRecord & { dashboards: number[]; tiles: Array<{ id: number; dashboard_id: number }> };

export interface Placement {
  organizationId: string;
  projectId: number;
}

/** PostHog's 8-character short ids. */
export const newShortId = () => randomBase62(8);

/** The URL's insight: a numeric id or a short id; anything else names nothing. */
export function parseInsightRef(value: string): { id: number } | { shortId: string } | null {
  if (/^\d{1,9}$/.test(value)) return { id: Number(value) };
  if (/^[A-Za-z0-9]{1,12}$/.test(value)) return { shortId: value };
  return null;
}

export async function findInsight(
  q: Queryable,
  projectId: number,
  ref: string,
  options: { lock?: boolean; includeDeleted?: boolean } = {},
): Promise<InsightRecord> {
  const parsed = parseInsightRef(ref);
  if (!parsed) throw notFound();
  let query = qb.selectFrom('insights').selectAll().where('team_id', '=', projectId);
  query = 'id' in parsed ? query.where('id', '=', sql<number>`${parsed.id}::int`) : query.where('short_id', '=', parsed.shortId);
  if (!options.includeDeleted) query = query.where((eb) => eb.not(eb.ref('deleted')));
  if (options.lock) query = query.forNoKeyUpdate();
  const insight = await row(q, query);
  if (!insight) throw notFound();
  return insight as InsightRecord;
}

export async function listInsights(q: Queryable, projectId: number, filters: { shortId?: string; search?: string }): Promise<InsightRecord[]> {
  const shortId = filters.shortId ?? null;
  const search = filters.search ?? null;
  const found = await rows(
    q,
    qb
      .selectFrom('insights')
      .selectAll()
      .where('team_id', '=', projectId)
      .where((eb) => eb.not(eb.ref('deleted')))
      .where(sql<boolean>`(${shortId}::text IS NULL OR short_id = ${shortId})`)
      .where(sql<boolean>`(${search}::text IS NULL OR strpos(lower(name), lower(${search})) > 0)`)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc'),
  );
  return found as InsightRecord[];
}

/** The live dashboards (and tiles) each insight is on. */
export async function withDashboards(q: Queryable, insights: readonly InsightRecord[]): Promise<InsightView[]> {
  if (insights.length === 0) return [];
  const rows = await q.query<{ id: number; insight_id: number; dashboard_id: number }>(
    `SELECT t.id, t.insight_id, t.dashboard_id FROM dashboard_tiles t JOIN dashboards d ON d.id = t.dashboard_id
      WHERE t.insight_id = ANY($1::int[]) AND NOT d.deleted ORDER BY t.dashboard_id`,
    [insights.map((i) => i.id)],
  );
  return insights.map((i) => {
    const tiles = rows.filter((r) => r.insight_id === i.id).map((r) => ({ id: r.id, dashboard_id: r.dashboard_id }));
    return { ...i, dashboards: tiles.map((t) => t.dashboard_id), tiles };
  });
}

function checkJson(input: InsightInput): void {
  if (input.query !== undefined && input.query !== null) checkStorableJson(input.query, 'query');
  if (input.filters !== undefined && input.filters !== null) checkStorableJson(input.filters, 'filters');
}

/**
 * Puts the insight on exactly `wanted` dashboards: each must be a live dashboard of the project the
 * actor may edit (one they may not see is, to them, one that does not exist).
 */
async function placeOnDashboards(tx: Queryable, gate: ResourceActor, insight: InsightRecord, current: number[], wanted: number[]): Promise<void> {
  const target = [...new Set(wanted)];
  const added = target.filter((id) => !current.includes(id));
  const removed = current.filter((id) => !target.includes(id));
  if (added.length === 0 && removed.length === 0) return;
  const dashboards = await tx.query<{ id: number; created_by_id: number | null }>(
    `SELECT id, created_by_id FROM dashboards WHERE team_id = $1 AND id = ANY($2::int[]) AND NOT deleted ORDER BY id FOR NO KEY UPDATE`,
    [insight.team_id, [...added, ...removed]],
  );
  for (const id of added) {
    const dashboard = dashboards.find((d) => d.id === id);
    if (!dashboard) throw validation(`Invalid pk "${id}" - object does not exist.`, 'dashboards', 'does_not_exist');
  }
  for (const dashboard of dashboards) await requireAccess(gate, 'dashboard', 'write', dashboard);
  if (removed.length > 0) {
    await tx.query('DELETE FROM dashboard_tiles WHERE insight_id = $1 AND dashboard_id = ANY($2::int[])', [insight.id, removed]);
  }
  if (added.length > 0) {
    await tx.query(
      `INSERT INTO dashboard_tiles (dashboard_id, insight_id) SELECT d, $1 FROM unnest($2::int[]) AS d ON CONFLICT (dashboard_id, insight_id) DO NOTHING`,
      [insight.id, added],
    );
  }
}

async function currentDashboards(tx: Queryable, insight: InsightRecord): Promise<number[]> {
  const [view] = await withDashboards(tx, [insight]);
  return view!.dashboards;
}

export async function createInsight(tx: Queryable, actor: Actor, gate: ResourceActor, at: Placement, input: InsightInput): Promise<InsightRecord> {
  checkJson(input);
  const [insight] = await tx.query<InsightRecord>(
    `INSERT INTO insights (short_id, team_id, name, description, query, filters, created_by_id)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7) RETURNING *`,
    [
      newShortId(),
      at.projectId,
      input.name ?? '',
      input.description ?? '',
      input.query === undefined || input.query === null ? null : JSON.stringify(input.query),
      JSON.stringify(input.filters ?? {}),
      actor.userId,
    ],
  );
  if (input.dashboards && input.dashboards.length > 0) await placeOnDashboards(tx, gate, insight!, [], input.dashboards);
  await recordActivity(tx, {
    organizationId: at.organizationId,
    teamId: at.projectId,
    actor,
    scope: 'Insight',
    activity: 'created',
    itemId: insight!.id,
    detail: { name: insight!.name || null, short_id: insight!.short_id, changes: null },
  });
  return insight!;
}

const TRACKED = ['name', 'description', 'query', 'filters', 'deleted', 'dashboards'] as const;

/**
 * Changes an insight; `deleted: true` soft-deletes it (activity `deleted`) and `deleted: false`
 * brings a deleted one back. A change that changes nothing writes no entry, as PostHog skips it.
 */
export async function updateInsight(tx: Queryable, actor: Actor, gate: ResourceActor, at: Placement, ref: string, patch: InsightInput): Promise<InsightRecord> {
  const before = await findInsight(tx, at.projectId, ref, { lock: true, includeDeleted: patch.deleted === false });
  checkJson(patch);
  const dashboardsBefore = await currentDashboards(tx, before);
  const [after] = await tx.query<InsightRecord>(
    `UPDATE insights SET
        name = COALESCE($2, name), description = COALESCE($3, description),
        query = CASE WHEN $4::boolean THEN $5::jsonb ELSE query END,
        filters = COALESCE($6::jsonb, filters), deleted = COALESCE($7, deleted), updated_at = now()
      WHERE id = $1 RETURNING *`,
    [
      before.id,
      patch.name === undefined ? null : (patch.name ?? ''),
      patch.description === undefined ? null : (patch.description ?? ''),
      patch.query !== undefined,
      patch.query === undefined || patch.query === null ? null : JSON.stringify(patch.query),
      patch.filters === undefined ? null : JSON.stringify(patch.filters ?? {}),
      patch.deleted ?? null,
    ],
  );
  if (patch.dashboards !== undefined) await placeOnDashboards(tx, gate, after!, dashboardsBefore, patch.dashboards);
  const dashboardsAfter = patch.dashboards === undefined ? dashboardsBefore : await currentDashboards(tx, after!);
  const changes = diffFields({ ...before, dashboards: dashboardsBefore }, { ...after!, dashboards: dashboardsAfter }, TRACKED, 'Insight');
  if (changes.length > 0) {
    await recordActivity(tx, {
      organizationId: at.organizationId,
      teamId: at.projectId,
      actor,
      scope: 'Insight',
      activity: after!.deleted && !before.deleted ? 'deleted' : 'updated',
      itemId: after!.id,
      detail: { name: after!.name || null, short_id: after!.short_id, changes },
    });
  }
  return after!;
}

/** DELETE: the same soft delete as `PATCH {"deleted": true}`. */
export async function deleteInsight(tx: Queryable, actor: Actor, gate: ResourceActor, at: Placement, ref: string): Promise<void> {
  await updateInsight(tx, actor, gate, at, ref, { deleted: true });
}
