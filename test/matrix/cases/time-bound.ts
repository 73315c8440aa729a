/**
 * Time-bound grants (docs/time-bound-access.md): a private project in which N held an explicit
 * membership and a member access-control row, both expired (not swept). The oracle knows nothing of
 * them: N is not among the project's members, so N must be refused like anyone outside it.
 */
import { expect } from 'vitest';
import type { Case } from '../model.js';
import { freshPrivateProject, sessionOf, type World } from '../world.js';
import { inP } from './core.js';

const projects = new WeakMap<World, Promise<number>>();

/** The project, made once per world; resolves once N's grants there have expired. */
function projectWithExpiredGrants(w: World): Promise<number> {
  let made = projects.get(w);
  if (!made) {
    made = (async () => {
      const projectId = await freshPrivateProject(w);
      const o = sessionOf(w, 'O');
      const expiresAt = new Date(Date.now() + 2_000).toISOString();
      const added = await o.post(`/api/projects/${projectId}/explicit_members/`, { user_uuid: w.people.N.user.uuid, level: 8, expires_at: expiresAt });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
      const member = await o.get(`/api/organizations/${w.orgA}/members/?email=${encodeURIComponent(w.people.N.user.email)}`);
      const rule = await o.put(`/api/projects/${projectId}/access_controls/`, {
        access_level: 'admin',
        organization_member: member.body.results[0].id,
        expires_at: expiresAt,
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(200);
      await new Promise((r) => setTimeout(r, Math.max(0, new Date(expiresAt).getTime() - Date.now() + 100)));
      return projectId;
    })();
    projects.set(w, made);
  }
  return made;
}

export function timeBoundCases(w: World): Case[] {
  return [
    {
      route: 'GET /api/projects/:project_id/',
      access: { scope: 'project', action: 'read' },
      who: 'project-member',
      ok: 200,
      request: async () => {
        const projectId = await projectWithExpiredGrants(w);
        return inP(w, { method: 'GET', path: `/api/projects/${projectId}/` }, projectId);
      },
    },
    {
      route: 'GET /api/projects/:project_id/feature_flags/',
      access: { scope: 'feature_flag', action: 'read' },
      who: 'project-member',
      ok: 200,
      request: async () => {
        const projectId = await projectWithExpiredGrants(w);
        return inP(w, { method: 'GET', path: `/api/projects/${projectId}/feature_flags/` }, projectId);
      },
    },
  ];
}
