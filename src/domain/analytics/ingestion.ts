import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../store/database.js';
import { DomainError, validation } from '../errors.js';
import { checkStorableJson, isEventUuid, MAX_DISTINCT_ID_LENGTH, MAX_EVENT_NAME_LENGTH, parseInstant } from './events.js';

/**
 * Event ingestion with a project token (PostHog's capture endpoint: posthog/api/capture.py and the
 * capture service). A request is all or nothing: every event is checked before anything is written,
 * and the events and the recordings they touch are written in one transaction.
 */

/** Most events one request may carry; larger batches are refused whole. */
export const MAX_BATCH_EVENTS = 1000;
/** Session ids longer than this are not recordings (PostHog's are UUIDv7 strings). */
const MAX_SESSION_ID_LENGTH = 200;
/** Events that carry replay data: they describe a recording and are not stored as events. */
const REPLAY_EVENTS: ReadonlySet<string> = new Set(['$snapshot', '$snapshot_items']);

export interface IncomingEvent {
  uuid: string;
  event: string;
  distinctId: string;
  properties: Record<string, unknown>;
  timestamp: Date;
}

const invalidPayload = (detail: string, attr: string | null = null) => validation(`Invalid payload: ${detail}`, attr, 'invalid_payload');

export const MISSING_TOKEN = 'API key not provided. You can find your project API key in PostHog project settings.';
export const INVALID_TOKEN = 'Project API key invalid. You can find your project API key in PostHog project settings.';

/**
 * The answers to a request without a token and with one that names no project, with PostHog's
 * messages and codes (its capture and flags services say `missing_api_key` / `invalid_api_key`).
 * The second is one answer for every unknown token: it never says whether some project exists.
 */
export const missingToken = () => new DomainError('not_authenticated', MISSING_TOKEN, 'missing_api_key');
export const invalidToken = () => new DomainError('authentication_failed', INVALID_TOKEN, 'invalid_api_key');

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const typeName = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value);

/** PostHog's order: `$distinct_id`, then `properties.distinct_id`, then `distinct_id`; cut at 200 characters. */
function distinctIdOf(raw: Record<string, unknown>, properties: Record<string, unknown>, attr: (f: string) => string): string {
  const value = raw.$distinct_id ?? properties.distinct_id ?? raw.distinct_id;
  if (value === undefined || value === null) throw invalidPayload('All events must have the event field "distinct_id"!', attr('distinct_id'));
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw invalidPayload('Event field "distinct_id" must be a string or a number.', attr('distinct_id'));
  }
  const text = String(value).trim();
  if (text === '') throw invalidPayload('Event field "distinct_id" should not be blank!', attr('distinct_id'));
  return text.slice(0, MAX_DISTINCT_ID_LENGTH);
}

function timestampOf(raw: Record<string, unknown>, now: Date, attr: (f: string) => string): Date {
  if (raw.timestamp !== undefined && raw.timestamp !== null) return parseInstant(raw.timestamp, attr('timestamp'), true);
  if (raw.offset !== undefined && raw.offset !== null) {
    if (typeof raw.offset !== 'number' || !Number.isFinite(raw.offset) || Math.abs(raw.offset) > 1e12) {
      throw invalidPayload('Event field "offset" must be a number of milliseconds.', attr('offset'));
    }
    return new Date(now.getTime() - Math.round(raw.offset));
  }
  return now;
}

function eventFrom(raw: unknown, index: number | null, now: Date): IncomingEvent {
  const attr = (field: string) => (index === null ? field : `batch__${index}__${field}`);
  if (!isObject(raw)) throw invalidPayload(`events must be JSON objects, received ${typeName(raw)}.`, index === null ? null : `batch__${index}`);
  const name = raw.event;
  if (typeof name !== 'string' || name.trim() === '') throw invalidPayload('All events must have the event name field "event"!', attr('event'));
  if (name.length > MAX_EVENT_NAME_LENGTH) {
    throw invalidPayload(`Event field "event" may have at most ${MAX_EVENT_NAME_LENGTH} characters.`, attr('event'));
  }
  const properties = raw.properties ?? {};
  if (!isObject(properties)) throw invalidPayload(`Properties must be a JSON object, received ${typeName(properties)}!`, attr('properties'));
  checkStorableJson(properties, attr('properties'));
  let uuid: string;
  if (raw.uuid === undefined || raw.uuid === null || raw.uuid === '') uuid = randomUUID();
  else if (typeof raw.uuid === 'string' && isEventUuid(raw.uuid)) uuid = raw.uuid.toLowerCase();
  else throw invalidPayload('Event field "uuid" is not a valid UUID!', attr('uuid'));
  return { uuid, event: name, distinctId: distinctIdOf(raw, properties, attr), properties, timestamp: timestampOf(raw, now, attr) };
}

function eventLevelToken(raw: unknown): string | undefined {
  if (!isObject(raw)) return undefined;
  const properties = isObject(raw.properties) ? raw.properties : {};
  for (const value of [properties.token, raw.api_key, raw.token]) if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/**
 * The token a capture body carries: its `api_key`/`token` field, else the one its events carry
 * (`properties.token`, as posthog-js sends it), which must then be the same for every event. A
 * field that is not a string is a token that names no project.
 */
export function payloadToken(body: unknown): string | undefined {
  if (isObject(body)) {
    for (const name of ['api_key', 'token']) {
      const value = body[name];
      if (value !== undefined && value !== null && value !== '') return typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  const raws = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.batch) ? body.batch : [body];
  const tokens = new Set(
    raws
      .slice(0, MAX_BATCH_EVENTS + 1)
      .map(eventLevelToken)
      .filter((t): t is string => t !== undefined),
  );
  if (tokens.size > 1) throw invalidPayload('all events of one request must carry the same token.', 'batch');
  const [token] = tokens;
  return token;
}

/**
 * The events of a capture request: a single event `{event, distinct_id, properties, ...}`, a batch
 * `{api_key, batch: [...]}` (posthog-node, posthog-python) or a bare list (posthog-js).
 */
export function readCapturePayload(body: unknown, now = new Date()): IncomingEvent[] {
  let raws: unknown[];
  let batched: boolean;
  if (Array.isArray(body)) {
    raws = body;
    batched = true;
  } else if (isObject(body) && body.batch !== undefined) {
    if (!Array.isArray(body.batch)) throw invalidPayload('"batch" must be a list of events.', 'batch');
    raws = body.batch;
    batched = true;
  } else if (isObject(body)) {
    raws = [body];
    batched = false;
  } else {
    throw invalidPayload(`expected a JSON object or a list of events, received ${typeName(body)}.`);
  }
  if (raws.length === 0) throw invalidPayload('the request holds no events.', batched ? 'batch' : null);
  if (raws.length > MAX_BATCH_EVENTS) {
    throw invalidPayload(`a request may carry at most ${MAX_BATCH_EVENTS} events; this one has ${raws.length}. Split it into smaller batches.`, 'batch');
  }
  return raws.map((raw, i) => eventFrom(raw, batched ? i : null, now));
}

/** The project a token belongs to, if any. */
export async function findProjectByToken(q: Queryable, token: string): Promise<{ id: number; organization_id: string } | undefined> {
  if (token.length > 200) return undefined;
  const [row] = await q.query<{ id: number; organization_id: string }>('SELECT id, organization_id FROM projects WHERE api_token = $1', [token]);
  return row;
}

interface SessionTouch {
  id: string;
  distinctId: string;
  start: Date;
  end: Date;
  clicks: number;
  keypresses: number;
  startUrl: string | null;
}

/** What the events say about their sessions: one row per session id, earliest and latest time. */
function sessionsOf(events: readonly IncomingEvent[]): SessionTouch[] {
  const sessions = new Map<string, SessionTouch>();
  for (const e of events) {
    const id = e.properties.$session_id;
    if (typeof id !== 'string' || id === '' || id.length > MAX_SESSION_ID_LENGTH) continue;
    const url = typeof e.properties.$current_url === 'string' ? e.properties.$current_url : null;
    const eventType = e.event === '$autocapture' ? e.properties.$event_type : undefined;
    const seen = sessions.get(id);
    if (!seen) {
      sessions.set(id, {
        id,
        distinctId: e.distinctId,
        start: e.timestamp,
        end: e.timestamp,
        clicks: eventType === 'click' ? 1 : 0,
        keypresses: eventType === 'change' ? 1 : 0,
        startUrl: url,
      });
      continue;
    }
    if (e.timestamp < seen.start) {
      seen.start = e.timestamp;
      seen.distinctId = e.distinctId;
      if (url !== null) seen.startUrl = url;
    }
    if (e.timestamp > seen.end) seen.end = e.timestamp;
    if (seen.startUrl === null) seen.startUrl = url;
    if (eventType === 'click') seen.clicks++;
    if (eventType === 'change') seen.keypresses++;
  }
  // A fixed order, so concurrent requests touching the same sessions lock them in the same order.
  return [...sessions.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Stores the events in the project and upserts the recordings their `$session_id` names. An event
 * whose uuid the project already holds is a client's retry and is not stored (or counted) twice.
 * Replay events (`$snapshot`) describe a recording and are not stored as events.
 */
export async function ingestEvents(tx: Queryable, projectId: number, events: readonly IncomingEvent[]): Promise<{ stored: number }> {
  const plain = events.filter((e) => !REPLAY_EVENTS.has(e.event));
  let fresh: IncomingEvent[] = events.filter((e) => REPLAY_EVENTS.has(e.event));
  if (plain.length > 0) {
    const inserted = await tx.query<{ uuid: string }>(
      `INSERT INTO events (uuid, team_id, event, distinct_id, properties, timestamp)
       SELECT x.u::uuid, $1, x.e, x.d, x.p::jsonb, x.t::timestamptz
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(u, e, d, p, t)
       ON CONFLICT (team_id, uuid) DO NOTHING
       RETURNING uuid::text AS uuid`,
      [
        projectId,
        plain.map((e) => e.uuid),
        plain.map((e) => e.event),
        plain.map((e) => e.distinctId),
        plain.map((e) => JSON.stringify(e.properties)),
        plain.map((e) => e.timestamp.toISOString()),
      ],
    );
    const stored = new Set(inserted.map((r) => r.uuid));
    fresh = fresh.concat(plain.filter((e) => stored.delete(e.uuid)));
    await touchSessions(tx, projectId, fresh);
    return { stored: inserted.length };
  }
  await touchSessions(tx, projectId, fresh);
  return { stored: 0 };
}

async function touchSessions(tx: Queryable, projectId: number, events: readonly IncomingEvent[]): Promise<void> {
  const sessions = sessionsOf(events);
  if (sessions.length === 0) return;
  await tx.query(
    `INSERT INTO session_recordings (id, team_id, distinct_id, start_time, end_time, click_count, keypress_count, start_url)
     SELECT x.id, $1, x.d, x.s::timestamptz, x.e::timestamptz, x.c::int, x.k::int, x.url
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS x(id, d, s, e, c, k, url)
     ON CONFLICT (team_id, id) DO UPDATE SET
       distinct_id = CASE WHEN EXCLUDED.start_time < session_recordings.start_time THEN EXCLUDED.distinct_id ELSE session_recordings.distinct_id END,
       start_url = CASE WHEN EXCLUDED.start_time < session_recordings.start_time AND EXCLUDED.start_url IS NOT NULL
                        THEN EXCLUDED.start_url ELSE COALESCE(session_recordings.start_url, EXCLUDED.start_url) END,
       start_time = LEAST(session_recordings.start_time, EXCLUDED.start_time),
       end_time = GREATEST(session_recordings.end_time, EXCLUDED.end_time),
       click_count = session_recordings.click_count + EXCLUDED.click_count,
       keypress_count = session_recordings.keypress_count + EXCLUDED.keypress_count`,
    [
      projectId,
      sessions.map((s) => s.id),
      sessions.map((s) => s.distinctId),
      sessions.map((s) => s.start.toISOString()),
      sessions.map((s) => s.end.toISOString()),
      sessions.map((s) => String(s.clicks)),
      sessions.map((s) => String(s.keypresses)),
      sessions.map((s) => s.startUrl),
    ],
  );
}
