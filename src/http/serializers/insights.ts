/** PostHog's JSON shapes for insights and dashboards (posthog/api/insight.py, dashboards/dashboard.py). */
import type { DashboardRecord, TileRecord } from '../../domain/analytics/dashboards.js';
import type { InsightView } from '../../domain/analytics/insights.js';
import type { UserRecord } from '../../domain/records.js';
import type { Queryable } from '../../store/database.js';
import { qb, rows as all, sql } from '../../store/query-builder.js';
import { userBasic } from '../serializers.js';

/** The users named as creators, by id, in one query. */
export async function creators(q: Queryable, ids: ReadonlyArray<number | null>): Promise<Map<number, UserRecord>> {
  const wanted = [...new Set(ids.filter((id): id is number => id !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await all(q, qb.selectFrom('users').selectAll().where('id', '=', sql<number>`ANY(${wanted}::int[])`));
  return new Map(rows.map((u) => [u.id, u]));
}

const creator = (users: Map<number, UserRecord>, id: number | null) => {
  const user = id === null ? undefined : users.get(id);
  return user ? userBasic(user) : null;
};

export function insight(i: InsightView, users: Map<number, UserRecord>) {
  return {
    id: i.id,
    short_id: i.short_id,
    name: i.name || null,
    derived_name: null,
    query: i.query,
    filters: i.filters,
    order: null,
    deleted: i.deleted,
    dashboards: i.dashboards,
    dashboard_tiles: i.tiles.map((t) => ({ id: t.id, dashboard_id: t.dashboard_id, deleted: false })),
    last_refresh: null,
    cache_target_age: null,
    next_allowed_client_refresh: null,
    result: null,
    hasMore: null,
    columns: null,
    created_at: i.created_at,
    created_by: creator(users, i.created_by_id),
    description: i.description,
    updated_at: i.updated_at,
    tags: [],
    favorited: false,
    last_modified_at: i.updated_at,
    last_modified_by: null,
    is_sample: false,
    timezone: null,
    is_cached: false,
    query_status: null,
    hogql: null,
    types: null,
  };
}

/** A dashboard as lists show it (PostHog's DashboardBasicSerializer: no tiles). */
export function dashboardBasic(d: DashboardRecord, users: Map<number, UserRecord>) {
  return {
    id: d.id,
    name: d.name || null,
    description: d.description,
    pinned: d.pinned,
    created_at: d.created_at,
    created_by: creator(users, d.created_by_id),
    last_accessed_at: null,
    is_shared: false,
    deleted: d.deleted,
    creation_mode: 'default',
    tags: [],
    restriction_level: 21,
    effective_restriction_level: 21,
    effective_privilege_level: 37,
    team_id: d.team_id,
  };
}

export function dashboard(d: DashboardRecord, tiles: ReadonlyArray<TileRecord & { insight: InsightView }>, users: Map<number, UserRecord>) {
  return {
    ...dashboardBasic(d, users),
    filters: {},
    variables: {},
    tiles: tiles.map((t) => ({
      id: t.id,
      layouts: t.layouts,
      color: t.color,
      insight: insight(t.insight, users),
      text: null,
      deleted: false,
      is_cached: false,
    })),
  };
}
