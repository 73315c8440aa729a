import { Type, type Static } from '@sinclair/typebox';
import { JsonObject, Nullable, Query } from './common.js';

export const EventParams = Type.Object({ project_id: Type.String(), event_id: Type.String() });
export type EventParams = Static<typeof EventParams>;
/** The filters (read and checked by the route and the domain, whose messages name the parameter). */
const FILTERS = ['event', 'distinct_id', 'after', 'before', 'orderBy', 'properties', 'limit'] as const;
export const EventListQuery = Query([...FILTERS, 'cursor_uuid']);
export const EventExportQuery = Query([...FILTERS, 'format']);

/** PostHog's ClickhouseEventSerializer, the fields Warden keeps. */
export const Event = Type.Object({
  id: Type.String(),
  uuid: Type.String(),
  distinct_id: Type.String(),
  properties: JsonObject,
  event: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  person: Type.Null(),
  elements: Type.Array(Type.Unknown()),
  elements_chain: Type.String(),
});
export type Event = Static<typeof Event>;

/** Keyset pages: `next` carries the cursor; no count. */
export const EventPage = Type.Object({ next: Nullable(Type.String()), results: Type.Array(Event) });
export type EventPage = Static<typeof EventPage>;

/** The export: one event per line, streamed. */
export const EventExport = {
  description: 'NDJSON: one event per line.',
  content: { 'application/x-ndjson': { schema: Type.Unsafe<unknown>(Type.String()) } },
};

/** The EventsQuery answer (HogQL's shape): a row per event, a cell per selected column. */
export const EventsQueryResponse = Type.Object({
  columns: Type.Array(Type.String()),
  types: Type.Array(Type.String()),
  results: Type.Array(Type.Array(Type.Unknown())),
  hasMore: Type.Boolean(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  hogql: Type.String(),
  timings: Type.Array(Type.Unknown()),
  modifiers: JsonObject,
});
export type EventsQueryResponse = Static<typeof EventsQueryResponse>;
