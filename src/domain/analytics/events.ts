import type { Queryable } from '../../store/database.js';
import type { Narrow, Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { notFound, validation } from '../errors.js';

/** One stored event (PostHog's events table, kept in the project's Postgres). */
export type EventRecord = Narrow<Selectable<DB['events']>, { properties: Record<string, unknown> }>;

/** What the events list, the export and EventsQuery filter on. Bounds are exclusive, as PostHog's. */
export interface EventFilters {
  event?: string;
  distinctId?: string;
  after?: Date;
  before?: Date;
  order: 'desc' | 'asc';
}

/** Where the previous page stopped: the last event's timestamp and uuid (a stable keyset cursor). */
export interface EventCursor {
  timestamp: Date;
  uuid: string;
}

export const MAX_EVENT_NAME_LENGTH = 400;
export const MAX_DISTINCT_ID_LENGTH = 200;
/** How deep stored JSON (event properties, insight queries, tile layouts) may nest. */
export const MAX_JSON_DEPTH = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isEventUuid = (value: string) => UUID.test(value);

/** A NUL, or a UTF-16 surrogate without its pair: text Postgres cannot store. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks JSON the client sent before it is stored as jsonb: no key or string Postgres would refuse
 * (the request hook checks values, not keys), and no nesting deeper than MAX_JSON_DEPTH. Iterative.
 */
export function checkStorableJson(root: unknown, attr: string): void {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) throw validation('This value contains characters that cannot be stored.', attr);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) throw validation(`JSON may nest at most ${MAX_JSON_DEPTH} levels deep.`, attr);
    if (Array.isArray(value)) {
      for (const child of value) stack.push([child, depth + 1]);
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) throw validation('A key contains characters that cannot be stored.', attr);
      stack.push([child, depth + 1]);
    }
  }
}

/** An instant from an API parameter: ISO 8601 text (or epoch milliseconds when `numbers` is set). */
export function parseInstant(value: unknown, attr: string, numbers = false): Date {
  let date: Date | undefined;
  if (typeof value === 'string' && value.trim() !== '' && value.length <= 64) {
    date = /^-?\d+(\.\d+)?$/.test(value.trim()) && numbers ? new Date(Number(value)) : new Date(value);
  } else if (numbers && typeof value === 'number' && Number.isFinite(value)) {
    date = new Date(value);
  }
  const year = date?.getUTCFullYear();
  if (!date || Number.isNaN(date.getTime()) || year === undefined || year < 1 || year > 9999) {
    throw validation('Datetime has wrong format. Use an ISO 8601 date and time.', attr, 'invalid_input');
  }
  return date;
}

/** Reads the optional `event`, `distinct_id`, `after`, `before` filters of a request. */
export function readEventFilters(source: Record<string, unknown>, order: 'desc' | 'asc' = 'desc'): EventFilters {
  const filters: EventFilters = { order };
  const text = (name: string, max: number): string | undefined => {
    const value = source[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw validation('Not a valid string.', name);
    if (value.length > max) throw validation(`Ensure this field has no more than ${max} characters.`, name, 'max_length');
    return value;
  };
  const event = text('event', MAX_EVENT_NAME_LENGTH);
  if (event !== undefined) filters.event = event;
  const distinctId = text('distinct_id', MAX_DISTINCT_ID_LENGTH);
  if (distinctId !== undefined) filters.distinctId = distinctId;
  for (const bound of ['after', 'before'] as const) {
    const value = source[bound];
    if (value !== undefined && value !== null && value !== '') filters[bound] = parseInstant(value, bound);
  }
  return filters;
}

function conditions(projectId: number, filters: EventFilters, cursor: EventCursor | undefined): { where: string; params: unknown[] } {
  const params: unknown[] = [projectId];
  const where = ['team_id = $1'];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filters.event !== undefined) add((n) => `event = ${n}`, filters.event);
  if (filters.distinctId !== undefined) add((n) => `distinct_id = ${n}`, filters.distinctId);
  if (filters.after) add((n) => `timestamp > ${n}::timestamptz`, filters.after.toISOString());
  if (filters.before) add((n) => `timestamp < ${n}::timestamptz`, filters.before.toISOString());
  if (cursor) {
    params.push(cursor.timestamp.toISOString(), cursor.uuid);
    const op = filters.order === 'desc' ? '<' : '>';
    where.push(`(timestamp, uuid) ${op} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  return { where: where.join(' AND '), params };
}

/** Up to `limit` events of the project, newest first (or oldest first), after the cursor. */
export async function listEvents(
  q: Queryable,
  projectId: number,
  filters: EventFilters,
  limit: number,
  cursor?: EventCursor,
  offset = 0,
): Promise<EventRecord[]> {
  const { where, params } = conditions(projectId, filters, cursor);
  const direction = filters.order === 'desc' ? 'DESC' : 'ASC';
  params.push(limit, offset);
  return q.query<EventRecord>(
    `SELECT uuid::text AS uuid, team_id, event, distinct_id, properties, timestamp, created_at
       FROM events WHERE ${where}
      ORDER BY timestamp ${direction}, uuid ${direction}
      LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
}

/** One event of the project by uuid; PostHog's 400 for a malformed uuid and 404 for an unknown one. */
export async function getEvent(q: Queryable, projectId: number, uuid: string): Promise<EventRecord> {
  if (!isEventUuid(uuid)) throw validation('Invalid UUID', null, 'invalid');
  const [row] = await q.query<EventRecord>(
    `SELECT uuid::text AS uuid, team_id, event, distinct_id, properties, timestamp, created_at
       FROM events WHERE team_id = $1 AND uuid = $2::uuid`,
    [projectId, uuid],
  );
  if (!row) throw notFound(`No events exist for event UUID ${uuid}`);
  return row;
}

/**
 * Every matching event, page by page (keyset pagination, so the export never holds more than one
 * page in memory and never skips events that share a timestamp), up to `max` events.
 */
export async function* iterateEvents(q: Queryable, projectId: number, filters: EventFilters, max: number, pageSize = 1000): AsyncGenerator<EventRecord> {
  let cursor: EventCursor | undefined;
  let remaining = max;
  while (remaining > 0) {
    const want = Math.min(pageSize, remaining);
    const page = await listEvents(q, projectId, filters, want, cursor);
    for (const row of page) yield row;
    remaining -= page.length;
    const last = page.at(-1);
    if (!last || page.length < want) return;
    cursor = { timestamp: last.timestamp, uuid: last.uuid };
  }
}
