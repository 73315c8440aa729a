import type { Queryable } from '../../store/database.js';
import { SECURITY_SCOPE } from './security-events.js';

/**
 * Reading the activity log (entries are written by ./activity.ts). One query shape serves the
 * project route, the organization route and the export; only the "which entries" part differs.
 */

/**
 * Which entries the caller may see, before the filters narrow them. Security entries (failed
 * logins, failed key authentications, denials) only with `includeSecurity`: organization admins.
 */
export type ActivityArea = { includeSecurity: boolean } /**
 * A project's entries (team_id = project), plus, when `includeOrganizationScoped`, the
 * organization-level entries (team_id IS NULL) of the project's organization.
 */ & (
  | { kind: 'project'; organizationId: string; projectId: number; includeOrganizationScoped: boolean }
  /**
   * An organization's entries. `projectIds` null: every project's entries; otherwise only those of
   * the listed projects. Organization-level entries (team_id IS NULL) are always included.
   */
  | { kind: 'organization'; organizationId: string; projectIds: readonly number[] | null }
);

export interface ActivityFilters {
  scopes?: readonly string[];
  user?: { id: number } | { uuid: string };
  itemId?: string;
  /** Inclusive lower bound on created_at (ISO). */
  after?: string;
  /** Exclusive upper bound on created_at (ISO). */
  before?: string;
  /** Organization route only: entries of this project (team_id). */
  projectId?: number;
  /** Entries about any of these items. */
  itemIds?: readonly string[];
  /** Entries by any of these users (UUIDs). */
  userUuids?: readonly string[];
  /** Only these activities, or all but these. */
  activities?: { in: readonly string[] } | { notIn: readonly string[] };
}

export interface ActivityRow {
  id: string;
  seq: number;
  organization_id: string | null;
  team_id: number | null;
  was_impersonated: boolean;
  is_system: boolean;
  activity: string;
  scope: string;
  item_id: string | null;
  detail: unknown;
  created_at: Date;
  user: { id: number; uuid: string; distinct_id: string; first_name: string; last_name: string; email: string } | null;
}

interface RawRow {
  id: string;
  seq: string;
  organization_id: string | null;
  team_id: number | null;
  was_impersonated: boolean;
  is_system: boolean;
  activity: string;
  scope: string;
  item_id: string | null;
  detail: unknown;
  created_at: Date | string;
  u_id: number | null;
  u_uuid: string | null;
  u_distinct_id: string | null;
  u_first_name: string | null;
  u_last_name: string | null;
  u_email: string | null;
}

const COLUMNS = `a.id::text AS id, a.seq::text AS seq, a.organization_id::text AS organization_id, a.team_id, a.was_impersonated,
  a.is_system, a.activity, a.scope, a.item_id, a.detail, a.created_at,
  u.id AS u_id, u.uuid::text AS u_uuid, u.distinct_id AS u_distinct_id, u.first_name AS u_first_name,
  u.last_name AS u_last_name, u.email AS u_email`;
const FROM = `FROM activity_log a LEFT JOIN users u ON u.id = a.user_id`;

const intArray = (ids: readonly number[]) => `{${ids.map((id) => Math.trunc(id)).join(',')}}`;

function toRow(r: RawRow): ActivityRow {
  return {
    id: r.id,
    seq: Number(r.seq),
    organization_id: r.organization_id,
    team_id: r.team_id,
    was_impersonated: r.was_impersonated,
    is_system: r.is_system,
    activity: r.activity,
    scope: r.scope,
    item_id: r.item_id,
    detail: typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail,
    created_at: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    user:
      r.u_id === null
        ? null
        : {
            id: r.u_id,
            uuid: r.u_uuid!,
            distinct_id: r.u_distinct_id!,
            first_name: r.u_first_name ?? '',
            last_name: r.u_last_name ?? '',
            email: r.u_email ?? '',
          },
  };
}

/** The WHERE clause (without the keyword) and its parameters. */
function whereOf(area: ActivityArea, filters: ActivityFilters): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const parts: string[] = [];
  if (area.kind === 'project') {
    const team = `a.team_id = ${p(area.projectId)}::int`;
    parts.push(area.includeOrganizationScoped ? `(${team} OR (a.team_id IS NULL AND a.organization_id = ${p(area.organizationId)}::uuid))` : team);
  } else {
    parts.push(`a.organization_id = ${p(area.organizationId)}::uuid`);
    if (area.projectIds !== null) parts.push(`(a.team_id IS NULL OR a.team_id = ANY(${p(intArray(area.projectIds))}::int[]))`);
    if (filters.projectId !== undefined) parts.push(`a.team_id = ${p(filters.projectId)}::int`);
  }
  if (!area.includeSecurity) parts.push(`a.scope <> ${p(SECURITY_SCOPE)}::text`);
  if (filters.scopes) {
    parts.push(filters.scopes.length === 0 ? 'false' : `a.scope IN (${filters.scopes.map((s) => `${p(s)}::text`).join(', ')})`);
  }
  if (filters.user) {
    parts.push(
      'id' in filters.user ? `a.user_id = ${p(filters.user.id)}::int` : `a.user_id = (SELECT id FROM users WHERE uuid = ${p(filters.user.uuid)}::uuid)`,
    );
  }
  if (filters.userUuids) {
    parts.push(`a.user_id IN (SELECT id FROM users WHERE uuid::text IN (${filters.userUuids.map((u) => `${p(u)}::text`).join(', ') || 'NULL'}))`);
  }
  if (filters.activities) {
    const [names, negate] = 'in' in filters.activities ? [filters.activities.in, false] : [filters.activities.notIn, true];
    if (names.length > 0) parts.push(`a.activity ${negate ? 'NOT IN' : 'IN'} (${names.map((n) => `${p(n)}::text`).join(', ')})`);
    else if (!negate) parts.push('false');
  }
  if (filters.itemId !== undefined) parts.push(`a.item_id = ${p(filters.itemId)}::text`);
  if (filters.itemIds) parts.push(`a.item_id IN (${filters.itemIds.map((i) => `${p(i)}::text`).join(', ') || 'NULL'})`);
  if (filters.after !== undefined) parts.push(`a.created_at >= ${p(filters.after)}::timestamptz`);
  if (filters.before !== undefined) parts.push(`a.created_at < ${p(filters.before)}::timestamptz`);
  return { sql: parts.join(' AND '), params };
}

/** Where a cursor page starts: strictly older (`next`) or strictly newer (`previous`) than seq. */
export interface ActivityCursor {
  direction: 'next' | 'previous';
  seq: number;
}

/**
 * One cursor page, newest first. `more` says whether further entries exist beyond the page in the
 * direction it was read (older for `next` and the first page, newer for `previous`).
 */
export async function listActivityAfterCursor(
  q: Queryable,
  area: ActivityArea,
  filters: ActivityFilters,
  limit: number,
  cursor: ActivityCursor | null,
): Promise<{ rows: ActivityRow[]; more: boolean }> {
  const { sql, params } = whereOf(area, filters);
  let condition = sql;
  const newer = cursor?.direction === 'previous';
  if (cursor) {
    params.push(String(cursor.seq));
    condition += ` AND a.seq ${newer ? '>' : '<'} $${params.length}::bigint`;
  }
  params.push(limit + 1);
  const raw = await q.query<RawRow>(
    `SELECT ${COLUMNS} ${FROM} WHERE ${condition} ORDER BY a.seq ${newer ? 'ASC' : 'DESC'} LIMIT $${params.length}::int`,
    params,
  );
  const more = raw.length > limit;
  const rows = raw.slice(0, limit).map(toRow);
  if (newer) rows.reverse();
  return { rows, more };
}

/**
 * A keyset page for SIEM polling: newest first by `seq`, or oldest first by `chain_seq` (the order in
 * which entries were committed and chained, so a poller following it misses none that commit late;
 * entries not chained yet wait for their place). `after`: the last position the reader saw.
 */
export async function listActivityKeyset(
  q: Queryable,
  area: ActivityArea,
  filters: ActivityFilters,
  limit: number,
  order: 'newest' | 'chain',
  after: number | null,
): Promise<{ rows: Array<ActivityRow & { position: number }>; more: boolean }> {
  const { sql, params } = whereOf(area, filters);
  const key = order === 'chain' ? 'a.chain_seq' : 'a.seq';
  let condition = order === 'chain' ? `${sql} AND a.chain_seq IS NOT NULL` : sql;
  if (after !== null) {
    params.push(String(after));
    condition += ` AND ${key} ${order === 'chain' ? '>' : '<'} $${params.length}::bigint`;
  }
  params.push(limit + 1);
  const raw = await q.query<RawRow & { position: string }>(
    `SELECT ${COLUMNS}, ${key}::text AS position ${FROM} WHERE ${condition} ORDER BY ${key} ${order === 'chain' ? 'ASC' : 'DESC'} LIMIT $${params.length}::int`,
    params,
  );
  return { rows: raw.slice(0, limit).map((r) => ({ ...toRow(r), position: Number(r.position) })), more: raw.length > limit };
}

/** One numbered page (offset), newest first, with the total count. */
export async function listActivityPage(
  q: Queryable,
  area: ActivityArea,
  filters: ActivityFilters,
  limit: number,
  offset: number,
): Promise<{ rows: ActivityRow[]; count: number }> {
  const { sql, params } = whereOf(area, filters);
  const [counted] = await q.query<{ n: string | number }>(`SELECT count(*)::int AS n ${FROM} WHERE ${sql}`, params);
  const raw = await q.query<RawRow>(
    `SELECT ${COLUMNS} ${FROM} WHERE ${sql} ORDER BY a.seq DESC LIMIT $${params.length + 1}::int OFFSET $${params.length + 2}::int`,
    [...params, limit, offset],
  );
  return { rows: raw.map(toRow), count: Number(counted?.n ?? 0) };
}

/** Every matching entry, oldest first (seq ASC), read in batches (keyset on seq) for streaming. */
export async function* iterateActivity(q: Queryable, area: ActivityArea, filters: ActivityFilters, batchSize = 1000): AsyncGenerator<ActivityRow> {
  const { sql, params } = whereOf(area, filters);
  let last = '0';
  for (;;) {
    const raw = await q.query<RawRow>(
      `SELECT ${COLUMNS} ${FROM} WHERE ${sql} AND a.seq > $${params.length + 1}::bigint ORDER BY a.seq ASC LIMIT $${params.length + 2}::int`,
      [...params, last, batchSize],
    );
    for (const r of raw) yield toRow(r);
    if (raw.length < batchSize) return;
    last = raw[raw.length - 1]!.seq;
  }
}

/** A chained entry, with its position and hash (what sinks receive). */
export type ChainedActivityRow = ActivityRow & { chain_seq: number; hash: string };

/** An organization's chained entries after a chain position, in chain order (for delivery to sinks). */
export async function listChainedAfter(q: Queryable, organizationId: string, afterChainSeq: number, limit: number): Promise<ChainedActivityRow[]> {
  const raw = await q.query<RawRow & { chain_seq: string; hash: string }>(
    `SELECT ${COLUMNS}, a.chain_seq::text AS chain_seq, a.hash ${FROM}
     WHERE a.organization_id = $1::uuid AND a.chain_seq > $2::bigint ORDER BY a.chain_seq LIMIT $3::int`,
    [organizationId, String(afterChainSeq), limit],
  );
  return raw.map((r) => ({ ...toRow(r), chain_seq: Number(r.chain_seq), hash: r.hash }));
}
