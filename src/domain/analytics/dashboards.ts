import type { Queryable } from '../../store/database.js';
import { qb, row, rows, sql, type Selectable, type Narrow } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { diffFields, recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { DomainError, notFound, validation } from '../errors.js';
import { checkStorableJson } from './events.js';
import { findInsight, type InsightRecord, type Placement } from './insights.js';
import { accessLevel, type ResourceActor } from '../access-control/resource-access.js';
import { requiredLevel, satisfies } from '../../access/access-control.js';

/**
 * Dashboards and their tiles. A tile shows one insight of the same project; an insight of another
 * project, a deleted one, or one the actor may not view cannot be put on a dashboard (400, the same
 * answer in each case, so nothing is learned about other projects). Every change writes one
 * `Dashboard` activity entry in its transaction.
 */
export type DashboardRecord = Selectable<DB['dashboards']>;

/** insight_id: every tile is written with one (the column is nullable, the domain never leaves it so). */
export type TileRecord = Narrow<Selectable<DB['dashboard_tiles']>, { insight_id: number; layouts: Record<string, unknown> }>;

export interface TileInput {
  id?: number;
  insight?: { id?: number; short_id?: string } | null;
  layouts?: Record<string, unknown>;
  color?: string | null;
  deleted?: boolean;
}

export interface DashboardInput {
  name?: string | null;
  description?: string | null;
  pinned?: boolean;
  deleted?: boolean;
  tiles?: TileInput[];
}

export async function getDashboard(
  q: Queryable,
  projectId: number,
  id: string,
  options: { lock?: boolean; includeDeleted?: boolean } = {},
): Promise<DashboardRecord> {
  if (!/^\d{1,9}$/.test(id)) throw notFound();
  let query = qb
    .selectFrom('dashboards')
    .selectAll()
    .where('team_id', '=', projectId)
    .where('id', '=', sql<number>`${Number(id)}::int`);
  if (!options.includeDeleted) query = query.where((eb) => eb.not(eb.ref('deleted')));
  if (options.lock) query = query.forNoKeyUpdate();
  const dashboard = await row(q, query);
  if (!dashboard) throw notFound();
  return dashboard;
}

export async function listDashboards(q: Queryable, projectId: number, filters: { search?: string; pinned?: boolean }): Promise<DashboardRecord[]> {
  return rows(
    q,
    qb
      .selectFrom('dashboards')
      .selectAll()
      .where('team_id', '=', projectId)
      .where((eb) => eb.not(eb.ref('deleted')))
      .where(sql<boolean>`(${filters.search ?? null}::text IS NULL OR strpos(lower(name), lower(${filters.search ?? null})) > 0)`)
      .where(sql<boolean>`(${filters.pinned ?? null}::boolean IS NULL OR pinned = ${filters.pinned ?? null})`)
      .orderBy('pinned', 'desc')
      .orderBy('name')
      .orderBy('id'),
  );
}

/** The dashboards' tiles whose insights are live, with those insights. */
export async function tilesOf(q: Queryable, dashboardIds: readonly number[]): Promise<Array<TileRecord & { insight: InsightRecord }>> {
  if (dashboardIds.length === 0) return [];
  const rows = await q.query<TileRecord & { insight: InsightRecord }>(
    `SELECT t.id, t.dashboard_id, t.insight_id, t.layouts, t.color, to_jsonb(i.*) AS insight
       FROM dashboard_tiles t JOIN insights i ON i.id = t.insight_id
      WHERE t.dashboard_id = ANY($1::int[]) AND NOT i.deleted
      ORDER BY t.dashboard_id, t.id`,
    [[...dashboardIds]],
  );
  // to_jsonb renders timestamps as text; give the nested insight the same types as a direct read.
  return rows.map((r) => ({
    ...r,
    insight: { ...r.insight, created_at: new Date(r.insight.created_at), updated_at: new Date(r.insight.updated_at) },
  }));
}

/** What the activity log records of a dashboard's tiles: insight, layouts and color, in insight order. */
async function tileSummary(q: Queryable, dashboardId: number) {
  const rows = await q.query<{ insight_id: number; layouts: Record<string, unknown>; color: string | null }>(
    'SELECT insight_id, layouts, color FROM dashboard_tiles WHERE dashboard_id = $1 ORDER BY insight_id',
    [dashboardId],
  );
  return rows;
}

/** The insight a new tile names, if the actor may put it there; otherwise PostHog's "does not exist". */
async function tileInsight(tx: Queryable, gate: ResourceActor, projectId: number, tile: TileInput, attr: string): Promise<InsightRecord> {
  const ref = tile.insight?.id ?? tile.insight?.short_id;
  if (ref === undefined) throw validation('A new tile needs an insight: {"insight": {"id": ...}}.', `${attr}__insight`, 'required');
  const doesNotExist = () => validation(`Invalid pk "${String(ref)}" - object does not exist.`, `${attr}__insight`, 'does_not_exist');
  let insight: InsightRecord;
  try {
    insight = await findInsight(tx, projectId, String(ref));
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'not_found') throw doesNotExist();
    throw error;
  }
  const { level } = await accessLevel(gate, 'insight', insight);
  if (!satisfies('insight', level, requiredLevel('insight', 'read'))) throw doesNotExist();
  return insight;
}

async function applyTiles(tx: Queryable, gate: ResourceActor, dashboard: DashboardRecord, tiles: readonly TileInput[]): Promise<void> {
  for (const [index, tile] of tiles.entries()) {
    const attr = `tiles__${index}`;
    if (tile.layouts !== undefined) checkStorableJson(tile.layouts, `${attr}__layouts`);
    if (tile.id !== undefined) {
      const existing = await row(tx, qb.selectFrom('dashboard_tiles').selectAll().where('id', '=', tile.id).where('dashboard_id', '=', dashboard.id));
      if (!existing) throw validation(`Invalid pk "${tile.id}" - object does not exist.`, `${attr}__id`, 'does_not_exist');
      if (tile.deleted) {
        await tx.query('DELETE FROM dashboard_tiles WHERE id = $1', [existing.id]);
        continue;
      }
      await tx.query('UPDATE dashboard_tiles SET layouts = COALESCE($2::jsonb, layouts), color = CASE WHEN $3::boolean THEN $4 ELSE color END WHERE id = $1', [
        existing.id,
        tile.layouts === undefined ? null : JSON.stringify(tile.layouts),
        tile.color !== undefined,
        tile.color ?? null,
      ]);
      continue;
    }
    if (tile.deleted) continue;
    const insight = await tileInsight(tx, gate, dashboard.team_id, tile, attr);
    await tx.query(
      `INSERT INTO dashboard_tiles (dashboard_id, insight_id, layouts, color) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (dashboard_id, insight_id) DO UPDATE SET
         layouts = CASE WHEN $5::boolean THEN EXCLUDED.layouts ELSE dashboard_tiles.layouts END,
         color = CASE WHEN $6::boolean THEN EXCLUDED.color ELSE dashboard_tiles.color END`,
      [dashboard.id, insight.id, JSON.stringify(tile.layouts ?? {}), tile.color ?? null, tile.layouts !== undefined, tile.color !== undefined],
    );
  }
}

export async function createDashboard(tx: Queryable, actor: Actor, gate: ResourceActor, at: Placement, input: DashboardInput): Promise<DashboardRecord> {
  const [dashboard] = await tx.query<DashboardRecord>(
    `INSERT INTO dashboards (team_id, name, description, pinned, created_by_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [at.projectId, input.name ?? '', input.description ?? '', input.pinned ?? false, actor.userId],
  );
  if (input.tiles && input.tiles.length > 0) await applyTiles(tx, gate, dashboard!, input.tiles);
  const tiles = await tileSummary(tx, dashboard!.id);
  await recordActivity(tx, {
    organizationId: at.organizationId,
    teamId: at.projectId,
    actor,
    scope: 'Dashboard',
    activity: 'created',
    itemId: dashboard!.id,
    detail: {
      name: dashboard!.name || null,
      changes: tiles.length > 0 ? [{ type: 'Dashboard', action: 'created', field: 'tiles', before: null, after: tiles }] : null,
    },
  });
  return dashboard!;
}

const TRACKED = ['name', 'description', 'pinned', 'deleted', 'tiles'] as const;

/** Changes a dashboard and its tiles; `deleted: true` soft-deletes it, `deleted: false` restores it. */
export async function updateDashboard(
  tx: Queryable,
  actor: Actor,
  gate: ResourceActor,
  at: Placement,
  id: string,
  patch: DashboardInput,
): Promise<DashboardRecord> {
  const before = await getDashboard(tx, at.projectId, id, { lock: true, includeDeleted: patch.deleted === false });
  const tilesBefore = await tileSummary(tx, before.id);
  const [after] = await tx.query<DashboardRecord>(
    `UPDATE dashboards SET name = COALESCE($2, name), description = COALESCE($3, description),
            pinned = COALESCE($4, pinned), deleted = COALESCE($5, deleted), updated_at = now()
      WHERE id = $1 RETURNING *`,
    [
      before.id,
      patch.name === undefined ? null : (patch.name ?? ''),
      patch.description === undefined ? null : (patch.description ?? ''),
      patch.pinned ?? null,
      patch.deleted ?? null,
    ],
  );
  if (patch.tiles && patch.tiles.length > 0) await applyTiles(tx, gate, after!, patch.tiles);
  const tilesAfter = await tileSummary(tx, before.id);
  const changes = diffFields({ ...before, tiles: tilesBefore }, { ...after!, tiles: tilesAfter }, TRACKED, 'Dashboard');
  if (changes.length > 0) {
    await recordActivity(tx, {
      organizationId: at.organizationId,
      teamId: at.projectId,
      actor,
      scope: 'Dashboard',
      activity: after!.deleted && !before.deleted ? 'deleted' : 'updated',
      itemId: after!.id,
      detail: { name: after!.name || null, changes },
    });
  }
  return after!;
}

/** DELETE: the same soft delete as `PATCH {"deleted": true}`. */
export async function deleteDashboard(tx: Queryable, actor: Actor, gate: ResourceActor, at: Placement, id: string): Promise<void> {
  await updateDashboard(tx, actor, gate, at, id, { deleted: true });
}
