import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serving } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import {
  getEvent,
  isEventUuid,
  iterateEvents,
  listEvents,
  parseInstant,
  readEventFilters,
  type EventCursor,
  type EventFilters,
} from '../../domain/analytics/events.js';
import { readEventsQuery, runEventsQuery } from '../../domain/analytics/query.js';
import { recordSensitiveRead } from '../../domain/activity/activity-reads.js';
import { actorOf, type Deps } from '../deps.js';
import * as show from '../serializers/events.js';
import { ProjectParams } from '../schemas/common.js';
import { Event, EventExport, EventExportQuery, EventListQuery, EventPage, EventParams, EventsQueryResponse } from '../schemas/events.js';
import { routeProject } from './projects.js';

export const EVENTS_PAGE_SIZE = 100;
const MAX_EVENTS_PAGE = 1000;
export const EXPORT_DEFAULT_LIMIT = 10_000;
export const EXPORT_MAX_LIMIT = 100_000;

/** The events routes take `event:read` or `query:read` (the source document's export key holds both). */
const readEvents = { access: serving('event', 'read', { resource: 'event' }, 'query') };

function limitOf(query: Record<string, unknown>, fallback: number, max: number): number {
  const value = query.limit;
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || Number(value) === 0) throw validation('A valid integer is required.', 'limit');
  return Math.min(Number(value), max);
}

/** PostHog's `orderBy`: a JSON list, `["-timestamp"]` (default) or `["timestamp"]`. */
function orderOf(query: Record<string, unknown>): 'desc' | 'asc' {
  const value = query.orderBy;
  if (value === undefined || value === '') return 'desc';
  if (value === '["-timestamp"]' || value === '-timestamp') return 'desc';
  if (value === '["timestamp"]' || value === 'timestamp') return 'asc';
  throw validation('orderBy must be ["-timestamp"] or ["timestamp"].', 'orderBy');
}

function filtersOf(query: Record<string, unknown>): EventFilters {
  if (query.properties !== undefined && query.properties !== '' && query.properties !== '[]') {
    throw validation('Property filters are not supported on this endpoint; use event, distinct_id, after and before.', 'properties', 'unsupported');
  }
  return readEventFilters(query, orderOf(query));
}

/** The keyset cursor a `next` link carries: `before`/`after` (PostHog's) plus the last event's uuid. */
function cursorOf(query: Record<string, unknown>, filters: EventFilters): EventCursor | undefined {
  const uuid = query.cursor_uuid;
  if (uuid === undefined || uuid === '') return undefined;
  const bound = filters.order === 'desc' ? 'before' : 'after';
  if (typeof uuid !== 'string' || !isEventUuid(uuid) || query[bound] === undefined) {
    throw validation('Invalid cursor.', 'cursor_uuid');
  }
  const timestamp = parseInstant(query[bound], bound);
  // The cursor replaces the exclusive bound: events at that instant with a later uuid still follow.
  delete filters[bound];
  return { timestamp, uuid };
}

function nextUrl(request: FastifyRequest, last: { timestamp: Date; uuid: string }, order: 'desc' | 'asc'): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set(order === 'desc' ? 'before' : 'after', last.timestamp.toISOString());
  url.searchParams.set('cursor_uuid', last.uuid);
  return url.toString();
}

/** Events (list, retrieve, NDJSON export) and the query route, under /api/projects/:project_id/. */
export function eventRoutes(app: FastifyInstance, { db }: Deps): void {
  const base = '/api/projects/:project_id/events/';
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(base, { config: readEvents, schema: { params: ProjectParams, querystring: EventListQuery, response: { 200: EventPage } } }, async (request) => {
    const query: Record<string, unknown> = request.query;
    const filters = filtersOf(query);
    const cursor = cursorOf(query, filters);
    const limit = limitOf(query, EVENTS_PAGE_SIZE, MAX_EVENTS_PAGE);
    const { project } = routeProject(request);
    await recordSensitiveRead(db, {
      organizationId: project.organization_id,
      projectId: project.id,
      actor: actorOf(request),
      scope: 'Event',
      activity: 'viewed',
      itemId: null,
      name: `events of ${project.name}`,
      context: { limit, filters },
    });
    const rows = await listEvents(db, project.id, filters, limit + 1, cursor);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { next: rows.length > limit && last ? nextUrl(request, last, filters.order) : null, results: page.map(show.event) };
  });

  api.get(
    `${base}export/`,
    { config: readEvents, schema: { params: ProjectParams, querystring: EventExportQuery, response: { 200: EventExport } } },
    async (request, reply) => {
      const query: Record<string, unknown> = request.query;
      if (query.format !== undefined && query.format !== 'ndjson' && query.format !== 'jsonl') {
        throw validation('Supported export formats: ndjson.', 'format', 'invalid_choice');
      }
      const filters = filtersOf(query);
      const limit = limitOf(query, EXPORT_DEFAULT_LIMIT, EXPORT_MAX_LIMIT);
      const { project } = routeProject(request);
      const projectId = project.id;
      await recordSensitiveRead(db, {
        organizationId: project.organization_id,
        projectId,
        actor: actorOf(request),
        scope: 'Event',
        activity: 'exported',
        itemId: null,
        name: `events export of ${project.name}`,
        context: { format: 'ndjson', limit, filters },
      });
      async function* lines() {
        for await (const row of iterateEvents(db, projectId, filters, limit)) yield `${JSON.stringify(show.event(row))}\n`;
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="events-${projectId}.ndjson"`)
        .send(Readable.from(lines()));
    },
  );

  api.get(`${base}:event_id/`, { config: readEvents, schema: { params: EventParams, response: { 200: Event } } }, async (request) => {
    const { event_id } = request.params;
    const { project } = routeProject(request);
    const event = await getEvent(db, project.id, event_id);
    await recordSensitiveRead(db, {
      organizationId: project.organization_id,
      projectId: project.id,
      actor: actorOf(request),
      scope: 'Event',
      activity: 'viewed',
      itemId: event_id,
      name: `event of ${project.name}`,
    });
    return show.event(event);
  });

  api.post(
    '/api/projects/:project_id/query/',
    { config: { access: serving('query', 'read', { resource: 'event' }) }, schema: { params: ProjectParams, response: { 200: EventsQueryResponse } } },
    async (request) => {
      const query = readEventsQuery(request.body);
      const { project } = routeProject(request);
      await recordSensitiveRead(db, {
        organizationId: project.organization_id,
        projectId: project.id,
        actor: actorOf(request),
        scope: 'Event',
        activity: 'queried',
        itemId: null,
        name: `events query of ${project.name}`,
        context: { query },
      });
      return runEventsQuery(db, project.id, query);
    },
  );
}
