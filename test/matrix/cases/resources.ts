import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Case } from '../model.js';
import { sessionOf, type World } from '../world.js';
import { inP, writes } from './core.js';

/**
 * Insights, dashboards, session recordings, events, query and ingestion. Routes under project P
 * are for its members ('project-member': the default access level is editor, so they read and
 * write); the ingestion routes take P's token in the body and answer every principal alike, whatever
 * credentials it carries. Targets of writes and deletes are made fresh, straight in the store, for
 * every request.
 */
export function resourceCases(w: World): Case[] {
  const db = w.server.db;
  const p = `/api/projects/${w.projectP}`;
  const unique = () => randomBytes(4).toString('hex');

  let token: Promise<string> | undefined;
  const tokenOfP = () =>
    (token ??= sessionOf(w, 'O')
      .get(`${p}/`)
      .then((res) => {
        expect(res.status).toBe(200);
        return res.body.api_token as string;
      }));

  const freshInsight = async () => {
    const [row] = await db.query<{ id: number }>(`INSERT INTO insights (short_id, team_id, name, created_by_id) VALUES ($1, $2, 'matrix', $3) RETURNING id`, [
      randomBytes(4).toString('hex'),
      w.projectP,
      w.people.O.user.id,
    ]);
    return row!.id;
  };
  const freshDashboard = async () => {
    const [row] = await db.query<{ id: number }>(`INSERT INTO dashboards (team_id, name, created_by_id) VALUES ($1, 'matrix', $2) RETURNING id`, [
      w.projectP,
      w.people.O.user.id,
    ]);
    return row!.id;
  };
  const freshRecording = async () => {
    const id = `matrix-${unique()}`;
    await db.query(`INSERT INTO session_recordings (id, team_id, distinct_id, start_time, end_time) VALUES ($1, $2, 'matrix', now(), now())`, [id, w.projectP]);
    return id;
  };
  // Read targets are made once, on first use.
  let insight: Promise<number> | undefined;
  let dashboard: Promise<number> | undefined;
  let recording: Promise<string> | undefined;
  let event: Promise<string> | undefined;
  const anEvent = () =>
    (event ??= (async () => {
      const uuid = randomUUID();
      await db.query(`INSERT INTO events (uuid, team_id, event, distinct_id, timestamp) VALUES ($1, $2, 'matrix', 'matrix', now())`, [uuid, w.projectP]);
      return uuid;
    })());

  const read = (scope: string) => ({ scope, action: 'read' as const });
  const write = (scope: string) => ({ scope, action: 'write' as const });
  const eventsRead = { scope: 'event', action: 'read' as const, alsoAccepts: 'query' };

  const list: Case[] = [
    // Ingestion: the project token alone decides, for everyone.
    ...['/capture/', '/batch/', '/e/', '/i/v0/e/'].map(
      (url): Case => ({
        route: `POST ${url}`,
        access: 'project-token',
        who: 'anyone',
        ok: 200,
        request: async () => ({
          method: 'POST',
          path: url,
          body:
            url === '/batch/'
              ? { api_key: await tokenOfP(), batch: [{ event: 'matrix', distinct_id: 'm' }] }
              : { api_key: await tokenOfP(), event: 'matrix', distinct_id: 'm' },
        }),
      }),
    ),

    // Events and the query endpoint.
    {
      route: 'GET /api/projects/:project_id/events/',
      access: eventsRead,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/events/` }),
    },
    {
      route: 'GET /api/projects/:project_id/events/export/',
      access: eventsRead,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/events/export/?limit=10` }),
    },
    {
      route: 'GET /api/projects/:project_id/events/:event_id/',
      access: eventsRead,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/events/${await anEvent()}/` }),
    },
    {
      route: 'POST /api/projects/:project_id/query/',
      access: read('query'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'POST', path: `${p}/query/`, body: { query: { kind: 'EventsQuery', select: ['event'], limit: 5 } } }),
    },

    // Insights.
    {
      route: 'GET /api/projects/:project_id/insights/',
      access: read('insight'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/insights/` }),
    },
    {
      route: 'POST /api/projects/:project_id/insights/',
      access: write('insight'),
      who: 'project-member',
      ok: 201,
      request: async () => inP(w, { method: 'POST', path: `${p}/insights/`, body: { name: `i-${unique()}`, query: { kind: 'EventsQuery' } } }),
    },
    {
      route: 'GET /api/projects/:project_id/insights/:insight_id/',
      access: read('insight'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/insights/${await (insight ??= freshInsight())}/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: '/api/projects/:project_id/insights/:insight_id/',
      access: write('insight'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method, path: `${p}/insights/${await freshInsight()}/`, body: { name: 'renamed' } }),
    })),
    {
      route: 'DELETE /api/projects/:project_id/insights/:insight_id/',
      access: write('insight'),
      who: 'project-member',
      ok: 204,
      request: async () => inP(w, { method: 'DELETE', path: `${p}/insights/${await freshInsight()}/` }),
    },

    // Dashboards.
    {
      route: 'GET /api/projects/:project_id/dashboards/',
      access: read('dashboard'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/dashboards/` }),
    },
    {
      route: 'POST /api/projects/:project_id/dashboards/',
      access: write('dashboard'),
      who: 'project-member',
      ok: 201,
      request: async () => inP(w, { method: 'POST', path: `${p}/dashboards/`, body: { name: `d-${unique()}` } }),
    },
    {
      route: 'GET /api/projects/:project_id/dashboards/:dashboard_id/',
      access: read('dashboard'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/dashboards/${await (dashboard ??= freshDashboard())}/` }),
    },
    ...writes(['PATCH', 'PUT'], (method) => ({
      url: '/api/projects/:project_id/dashboards/:dashboard_id/',
      access: write('dashboard'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method, path: `${p}/dashboards/${await freshDashboard()}/`, body: { name: 'renamed', pinned: true } }),
    })),
    {
      route: 'DELETE /api/projects/:project_id/dashboards/:dashboard_id/',
      access: write('dashboard'),
      who: 'project-member',
      ok: 204,
      request: async () => inP(w, { method: 'DELETE', path: `${p}/dashboards/${await freshDashboard()}/` }),
    },

    // Session recordings.
    {
      route: 'GET /api/projects/:project_id/session_recordings/',
      access: read('session_recording'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/session_recordings/` }),
    },
    {
      route: 'GET /api/projects/:project_id/session_recordings/:recording_id/',
      access: read('session_recording'),
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `${p}/session_recordings/${await (recording ??= freshRecording())}/` }),
    },
    {
      route: 'DELETE /api/projects/:project_id/session_recordings/:recording_id/',
      access: write('session_recording'),
      who: 'project-member',
      ok: 204,
      request: async () => inP(w, { method: 'DELETE', path: `${p}/session_recordings/${await freshRecording()}/` }),
    },
  ];
  return list;
}
