import type { Queryable } from '../../store/database.js';
import { validation } from '../errors.js';
import { listEvents, MAX_EVENT_NAME_LENGTH, parseInstant, type EventFilters, type EventRecord } from './events.js';

/**
 * PostHog's query endpoint (`POST /api/projects/:id/query/`) for the one kind Warden answers:
 * EventsQuery over the project's events, with plain columns and `properties.<name>` as the select
 * list. Anything Warden cannot answer faithfully (other kinds, HogQL expressions, property filters)
 * is refused with a 400 rather than answered with wider or different data.
 */

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;
const MAX_OFFSET = 100_000;
const MAX_SELECT = 50;

const PLAIN_COLUMNS = ['uuid', 'event', 'distinct_id', 'timestamp', 'properties', 'created_at'] as const;
type PlainColumn = (typeof PLAIN_COLUMNS)[number];
/** Fields PostHog's EventsQuery has that would narrow the result: refused unless empty. */
const UNSUPPORTED_FILTERS = ['where', 'properties', 'fixedProperties', 'personId', 'actionId', 'filterTestAccounts', 'source'] as const;

type Column = { kind: 'all' } | { kind: 'plain'; name: PlainColumn } | { kind: 'property'; name: string };

export interface EventsQueryResponse {
  columns: string[];
  types: string[];
  results: unknown[][];
  hasMore: boolean;
  limit: number;
  offset: number;
  hogql: string;
  timings: unknown[];
  modifiers: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function parseColumn(expression: unknown, index: number): Column {
  const attr = `query__select__${index}`;
  if (typeof expression !== 'string') throw validation('Each select expression must be a string.', attr);
  const text = expression.trim();
  if (text === '*') return { kind: 'all' };
  if ((PLAIN_COLUMNS as readonly string[]).includes(text)) return { kind: 'plain', name: text as PlainColumn };
  const property = /^properties\.(?:`([^`]{1,400})`|([$\w][$\w.-]{0,399}))$/.exec(text);
  if (property) return { kind: 'property', name: property[1] ?? property[2]! };
  throw validation(`Unsupported select expression "${text.slice(0, 100)}". Warden answers ${['*', ...PLAIN_COLUMNS].join(', ')} and properties.<name>.`, attr);
}

function integer(value: unknown, attr: string, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw validation('A valid integer is required.', attr);
  if (value > max) throw validation(`Ensure this value is less than or equal to ${max}.`, attr);
  return value;
}

function bound(value: unknown, attr: string): Date | undefined {
  if (value === undefined || value === null || value === 'all') return undefined;
  if (typeof value === 'string') {
    const relative = /^-(\d{1,6})([hdwmy])$/.exec(value.trim());
    if (relative) {
      const hours = { h: 1, d: 24, w: 24 * 7, m: 24 * 30, y: 24 * 365 }[relative[2] as 'h' | 'd' | 'w' | 'm' | 'y'];
      return new Date(Date.now() - Number(relative[1]) * hours * 3_600_000);
    }
  }
  return parseInstant(value, attr);
}

export interface EventsQuery {
  columns: Column[];
  select: string[];
  filters: EventFilters;
  limit: number;
  offset: number;
}

/** Validates `{"query": {...}}`; every refusal names the field it refuses. */
export function readEventsQuery(body: unknown): EventsQuery {
  if (!isObject(body) || body.query === undefined) throw validation('This field is required.', 'query', 'required');
  const query = body.query;
  if (!isObject(query)) throw validation('Invalid data. Expected a dictionary.', 'query');
  if (typeof query.kind !== 'string') throw validation('This field is required.', 'query__kind', 'required');
  if (query.kind !== 'EventsQuery') {
    throw validation(`Unsupported query kind "${query.kind.slice(0, 100)}". Warden answers EventsQuery only.`, 'query__kind', 'unsupported_query_kind');
  }
  for (const field of UNSUPPORTED_FILTERS) {
    const value = query[field];
    const empty = value === undefined || value === null || value === false || (Array.isArray(value) && value.length === 0) || value === '';
    if (!empty) throw validation(`"${field}" is not supported in Warden's EventsQuery.`, `query__${field}`, 'unsupported');
  }
  const rawSelect = query.select ?? ['*'];
  if (!Array.isArray(rawSelect) || rawSelect.length === 0) throw validation('Expected a non-empty list of items.', 'query__select');
  if (rawSelect.length > MAX_SELECT) throw validation(`Ensure this field has no more than ${MAX_SELECT} elements.`, 'query__select', 'max_length');
  const columns = rawSelect.map(parseColumn);

  let order: 'desc' | 'asc' = 'desc';
  if (query.orderBy !== undefined && query.orderBy !== null) {
    const orderBy = query.orderBy;
    const only = Array.isArray(orderBy) && orderBy.length === 1 && typeof orderBy[0] === 'string' ? orderBy[0].trim() : null;
    if (only === 'timestamp ASC' || only === 'timestamp') order = 'asc';
    else if (only !== 'timestamp DESC') {
      throw validation('Warden orders EventsQuery by ["timestamp DESC"] or ["timestamp ASC"] only.', 'query__orderBy', 'unsupported');
    }
  }
  const filters: EventFilters = { order };
  if (query.event !== undefined && query.event !== null) {
    if (typeof query.event !== 'string') throw validation('Not a valid string.', 'query__event');
    if (query.event.length > MAX_EVENT_NAME_LENGTH)
      throw validation(`Ensure this field has no more than ${MAX_EVENT_NAME_LENGTH} characters.`, 'query__event', 'max_length');
    filters.event = query.event;
  }
  const after = bound(query.after, 'query__after');
  if (after) filters.after = after;
  const before = bound(query.before, 'query__before');
  if (before) filters.before = before;
  return {
    columns,
    select: rawSelect.map((s) => String(s).trim()),
    filters,
    limit: integer(query.limit, 'query__limit', DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT) || DEFAULT_QUERY_LIMIT,
    offset: integer(query.offset, 'query__offset', 0, MAX_OFFSET),
  };
}

function cell(column: Column, e: EventRecord): unknown {
  switch (column.kind) {
    case 'all':
      return {
        uuid: e.uuid,
        event: e.event,
        properties: e.properties,
        timestamp: e.timestamp.toISOString(),
        team_id: e.team_id,
        distinct_id: e.distinct_id,
        elements_chain: '',
        created_at: e.created_at.toISOString(),
      };
    case 'plain': {
      const value = e[column.name];
      return value instanceof Date ? value.toISOString() : value;
    }
    case 'property':
      return e.properties[column.name] ?? null;
  }
}

const TYPES: Record<PlainColumn, string> = {
  uuid: 'UUID',
  event: 'String',
  distinct_id: 'String',
  timestamp: "DateTime64(6, 'UTC')",
  properties: 'String',
  created_at: "DateTime64(6, 'UTC')",
};

/** Runs an EventsQuery in one project: PostHog's response shape, `hasMore` from one extra row. */
export async function runEventsQuery(q: Queryable, projectId: number, query: EventsQuery): Promise<EventsQueryResponse> {
  const rows = await listEvents(q, projectId, query.filters, query.limit + 1, undefined, query.offset);
  const page = rows.slice(0, query.limit);
  return {
    columns: query.select,
    types: query.columns.map((c) => (c.kind === 'all' ? 'Tuple' : c.kind === 'plain' ? TYPES[c.name] : 'String')),
    results: page.map((e) => query.columns.map((c) => cell(c, e))),
    hasMore: rows.length > query.limit,
    limit: query.limit,
    offset: query.offset,
    hogql: `SELECT ${query.select.join(', ')} FROM events${query.filters.event !== undefined ? ' WHERE event = %(event)s' : ''} ORDER BY timestamp ${query.filters.order.toUpperCase()} LIMIT ${query.limit + 1} OFFSET ${query.offset}`,
    timings: [],
    modifiers: {},
  };
}
