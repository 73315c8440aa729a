import { expect } from 'vitest';
import type { Case } from '../model.js';
import { sessionOf, type World } from '../world.js';
import { inA, inP } from './core.js';

/** The activity log: a project's log (project members), the organization's (members), its export and chain verification (admins). */
export function activityCases(w: World): Case[] {
  const access = { scope: 'activity_log', action: 'read' } as const;
  return [
    {
      route: 'GET /api/projects/:project_id/activity_log/',
      access,
      who: 'project-member',
      ok: 200,
      request: async () => inP(w, { method: 'GET', path: `/api/projects/${w.projectP}/activity_log/?scope=Organization` }),
    },
    {
      route: 'GET /api/organizations/:organization_id/activity_log/',
      access,
      who: 'member',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/activity_log/` }),
    },
    {
      route: 'GET /api/organizations/:organization_id/activity_log/export/',
      access,
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/activity_log/export/?format=csv&scope=Project` }),
    },
    {
      route: 'GET /api/organizations/:organization_id/activity_log/verify/',
      access,
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `/api/organizations/${w.orgA}/activity_log/verify/` }),
    },
    ...sinkCases(w),
  ];
}

/** Activity-log sinks: admins only; keys need activity_log:read to read them, :write to change them. */
function sinkCases(w: World): Case[] {
  const base = `/api/organizations/${w.orgA}/activity_log_sinks/`;
  const route = '/api/organizations/:organization_id/activity_log_sinks/';
  const read = { scope: 'activity_log', action: 'read' } as const;
  const write = { scope: 'activity_log', action: 'write' } as const;
  // Disabled, so the background delivery never calls it.
  const newSink = async (): Promise<string> => {
    const res = await sessionOf(w, 'O').post(base, { url: 'https://127.0.0.1:9/matrix', enabled: false });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  };
  let shared: string | undefined;
  const sharedSink = async () => (shared ??= await newSink());
  // Every successful create or delete target is removed again, so the per-organization cap is never reached.
  const removeOthers = async () => {
    await w.server.db.query('DELETE FROM activity_log_sinks WHERE organization_id = $1 AND id <> $2', [
      w.orgA,
      shared ?? '00000000-0000-0000-0000-000000000000',
    ]);
  };
  return [
    { route: `GET ${route}`, access: read, who: 'admin', ok: 200, request: async () => inA(w, { method: 'GET', path: base }) },
    {
      route: `POST ${route}`,
      access: write,
      who: 'admin',
      ok: 201,
      request: async () => inA(w, { method: 'POST', path: base, body: { url: 'https://127.0.0.1:9/matrix', enabled: false }, cleanup: removeOthers }),
    },
    {
      route: `GET ${route}:sink_id/`,
      access: read,
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: `${base}${await sharedSink()}/` }),
    },
    {
      route: `PATCH ${route}:sink_id/`,
      access: write,
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'PATCH', path: `${base}${await sharedSink()}/`, body: { description: 'matrix' } }),
    },
    {
      route: `DELETE ${route}:sink_id/`,
      access: write,
      who: 'admin',
      ok: 204,
      request: async () => inA(w, { method: 'DELETE', path: `${base}${await newSink()}/`, cleanup: removeOthers }),
    },
  ];
}
