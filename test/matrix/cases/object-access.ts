import { randomBytes } from 'node:crypto';
import type { Response } from '../../helpers/client.js';
import {
  expectedOrganizationActivity,
  expectedProjectActivity,
  expectedProjectUpdate,
  expectedResourceRoute,
  type Asker,
  type Config,
  type Expectation,
  type ObjectResource,
  type Resource,
  type RouteKind,
} from '../access-model.js';
import type { AccessWorld, Targets } from '../access-world.js';

/**
 * The access-control dimension's cases: every route that declares the resource it serves, the
 * project's update, and the activity-log reads (project, and organization with `?project=`), each
 * with the oracle's expectation under a configuration.
 */
export interface AccessCase {
  route: string;
  /** `slot`: which asker asks (each deletes an object of its own). */
  request: (aw: AccessWorld, t: Targets, slot: number) => { method: string; path: string; body?: unknown };
  expect: (config: Config, asker: Asker) => Expectation;
  /** Where the answer names the target object (lists, activity entries). */
  target?: { resource: ObjectResource; scope?: string };
}

const unique = () => randomBytes(4).toString('hex');
const SCOPE: Record<ObjectResource, string> = { feature_flag: 'FeatureFlag', insight: 'Insight', dashboard: 'Dashboard', session_recording: 'Replay' };

function crud(
  resource: ObjectResource,
  path: string,
  param: string,
  kinds: RouteKind[],
  body: () => Record<string, unknown>,
  listQuery: (t: Targets) => string,
): AccessCase[] {
  const base = `/api/projects/:project_id/${path}/`;
  const at = (aw: AccessWorld) => `/api/projects/${aw.projectQ}/${path}/`;
  const cases: AccessCase[] = [];
  const by = (kind: RouteKind) => (config: Config, asker: Asker) => expectedResourceRoute(config, asker, resource, kind);
  for (const kind of kinds) {
    if (kind === 'list')
      cases.push({
        route: `GET ${base}`,
        request: (aw, t) => ({ method: 'GET', path: `${at(aw)}?${listQuery(t)}` }),
        expect: by('list'),
        target: { resource },
      });
    if (kind === 'create') cases.push({ route: `POST ${base}`, request: (aw) => ({ method: 'POST', path: at(aw), body: body() }), expect: by('create') });
    if (kind === 'retrieve')
      cases.push({ route: `GET ${base}:${param}/`, request: (aw, t) => ({ method: 'GET', path: `${at(aw)}${t[resource].target}/` }), expect: by('retrieve') });
    if (kind === 'update') {
      for (const method of ['PATCH', 'PUT']) {
        cases.push({
          route: `${method} ${base}:${param}/`,
          request: (aw, t) => ({ method, path: `${at(aw)}${t[resource].target}/`, body: { name: `n-${unique()}` } }),
          expect: by('update'),
        });
      }
    }
    if (kind === 'delete')
      cases.push({
        route: `DELETE ${base}:${param}/`,
        request: (aw, t, slot) => ({ method: 'DELETE', path: `${at(aw)}${t[resource].doomed[slot]}/` }),
        expect: by('delete'),
      });
  }
  return cases;
}

export function objectAccessCases(): AccessCase[] {
  const all: RouteKind[] = ['list', 'create', 'retrieve', 'update', 'delete'];
  const events = (kind: RouteKind) => (config: Config, asker: Asker) => expectedResourceRoute(config, asker, 'event' satisfies Resource, kind);
  const activity = (resource: ObjectResource): AccessCase[] => [
    {
      route: 'GET /api/projects/:project_id/activity_log/',
      request: (aw, t) => ({ method: 'GET', path: `/api/projects/${aw.projectQ}/activity_log/?scope=${SCOPE[resource]}&item_id=${t[resource].target}` }),
      expect: (config, asker) => expectedProjectActivity(config, asker, resource),
      target: { resource, scope: SCOPE[resource] },
    },
    {
      // The SIEM endpoint passes the same gate and redaction as the activity log.
      route: 'GET /api/projects/:project_id/advanced_activity_logs/',
      request: (aw, t) => ({
        method: 'GET',
        path: `/api/projects/${aw.projectQ}/advanced_activity_logs/?scopes=${SCOPE[resource]}&item_ids=${t[resource].target}`,
      }),
      expect: (config, asker) => expectedProjectActivity(config, asker, resource),
      target: { resource, scope: SCOPE[resource] },
    },
    {
      route: 'GET /api/organizations/:organization_id/activity_log/',
      request: (aw, t) => ({
        method: 'GET',
        path: `/api/organizations/${aw.organizationId}/activity_log/?project=${aw.projectQ}&scope=${SCOPE[resource]}&item_id=${t[resource].target}`,
      }),
      expect: (config, asker) => expectedOrganizationActivity(config, asker, resource),
      target: { resource, scope: SCOPE[resource] },
    },
  ];
  return [
    ...crud(
      'feature_flag',
      'feature_flags',
      'flag_id',
      all,
      () => ({ key: `k-${unique()}` }),
      (t) => `search=${t.feature_flag.search}`,
    ),
    ...crud(
      'insight',
      'insights',
      'insight_id',
      all,
      () => ({ name: `i-${unique()}` }),
      (t) => `short_id=${t.insight.search}`,
    ),
    ...crud(
      'dashboard',
      'dashboards',
      'dashboard_id',
      all,
      () => ({ name: `d-${unique()}` }),
      (t) => `search=${t.dashboard.search}`,
    ),
    ...crud(
      'session_recording',
      'session_recordings',
      'recording_id',
      ['list', 'retrieve', 'delete'],
      () => ({}),
      (t) => `distinct_id=${t.session_recording.search}`,
    ),
    {
      route: 'GET /api/projects/:project_id/events/',
      request: (aw) => ({ method: 'GET', path: `/api/projects/${aw.projectQ}/events/?limit=5` }),
      expect: events('list'),
    },
    {
      route: 'GET /api/projects/:project_id/events/export/',
      request: (aw) => ({ method: 'GET', path: `/api/projects/${aw.projectQ}/events/export/?limit=5` }),
      expect: events('list'),
    },
    {
      route: 'GET /api/projects/:project_id/events/:event_id/',
      request: (aw) => ({ method: 'GET', path: `/api/projects/${aw.projectQ}/events/${aw.eventId}/` }),
      expect: events('list'),
    },
    {
      route: 'POST /api/projects/:project_id/query/',
      request: (aw) => ({ method: 'POST', path: `/api/projects/${aw.projectQ}/query/`, body: { query: { kind: 'EventsQuery', select: ['event'], limit: 5 } } }),
      expect: events('list'),
    },
    ...activity('feature_flag'),
    ...activity('insight'),
    ...activity('dashboard'),
    {
      route: 'PATCH /api/projects/:project_id/',
      request: (aw) => ({ method: 'PATCH', path: `/api/projects/${aw.projectQ}/`, body: { name: `access-${unique()}` } }),
      expect: (config, asker) => ({ status: expectedProjectUpdate(config, asker) }),
    },
  ];
}

/** Compares an answer with the expectation; null when it matches, else what differs. */
export function mismatch(c: AccessCase, t: Targets, want: Expectation, res: Response): string | null {
  if (res.status !== want.status) return `got ${res.status}, expected ${want.status} ${JSON.stringify(res.body).slice(0, 200)}`;
  if (res.status >= 400 && (typeof res.body !== 'object' || res.body === null || !('detail' in res.body))) return `error without PostHog's shape`;
  if (!c.target || res.status !== 200) return null;
  const id = t[c.target.resource].target;
  const results: Array<{ id: unknown; item_id?: unknown; scope?: unknown; detail?: unknown }> = res.body?.results ?? [];
  if (want.shows !== undefined) {
    const shown = results.some((r) => String(r.id) === id);
    if (shown !== want.shows) return `list ${shown ? 'shows' : 'hides'} the target, expected it ${want.shows ? 'shown' : 'hidden'}`;
  }
  if (want.entry !== undefined) {
    const entries = results.filter((r) => r.scope === c.target!.scope && String(r.item_id) === id);
    const got =
      entries.length === 0 ? 'absent' : entries.every((e) => e.detail === null) ? 'redacted' : entries.some((e) => e.detail === null) ? 'mixed' : 'full';
    if (got !== want.entry) return `activity entry ${got}, expected ${want.entry}`;
  }
  return null;
}
