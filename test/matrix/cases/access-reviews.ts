import { expect } from 'vitest';
import type { Case, Req } from '../model.js';
import { freshPrivateProject, sessionOf, type World } from '../world.js';
import { inA } from './core.js';

/**
 * Access reviews (issue 25, part 3): admins start and close them; reviewers (by default the
 * organization's admins and owners, or the project's admins) read them and decide items; members
 * list only the reviews they review. Keys need organization_member read/write. Every review here
 * is of a fresh private project, so closing one changes nothing of the matrix's world (nothing is
 * decided `revoke`).
 */
export function accessReviewCases(w: World): Case[] {
  const base = `/api/organizations/${w.orgA}/access_reviews/`;
  const read = { scope: 'organization_member', action: 'read' } as const;
  const write = { scope: 'organization_member', action: 'write' } as const;
  const remove = (projectId: number) => async () => {
    await w.server.db.query('DELETE FROM access_reviews WHERE project_id = $1', [projectId]);
  };
  async function freshReview(): Promise<{ id: string; itemId: string; projectId: number }> {
    const projectId = await freshPrivateProject(w);
    const res = await sessionOf(w, 'O').post(base, { name: 'matrix', project_id: projectId });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const items = await sessionOf(w, 'O').get(`${base}${res.body.id}/items/`);
    return { id: res.body.id, itemId: items.body.results[0].id, projectId };
  }
  // One open review that the read and decide cases share.
  let shared: Promise<{ id: string; itemId: string; projectId: number }> | undefined;
  const sharedReview = () => (shared ??= freshReview());

  const get = (route: string, path: (r: { id: string; itemId: string }) => string, who: Case['who'] = 'admin'): Case => ({
    route,
    access: read,
    who,
    ok: 200,
    request: async (): Promise<Req> => inA(w, { method: 'GET', path: path(await sharedReview()) }),
  });

  return [
    get('GET /api/organizations/:organization_id/access_reviews/', () => base, 'member'),
    {
      route: 'POST /api/organizations/:organization_id/access_reviews/',
      access: write,
      who: 'admin',
      ok: 201,
      request: async () => {
        const projectId = await freshPrivateProject(w);
        return inA(w, { method: 'POST', path: base, body: { name: 'matrix-start', project_id: projectId }, cleanup: remove(projectId) });
      },
    },
    get('GET /api/organizations/:organization_id/access_reviews/:review_id/', (r) => `${base}${r.id}/`),
    get('GET /api/organizations/:organization_id/access_reviews/:review_id/items/', (r) => `${base}${r.id}/items/`),
    get('GET /api/organizations/:organization_id/access_reviews/:review_id/export/', (r) => `${base}${r.id}/export/?format=csv`),
    {
      route: 'PATCH /api/organizations/:organization_id/access_reviews/:review_id/items/:item_id/',
      access: write,
      who: 'admin',
      ok: 200,
      request: async () => {
        const r = await sharedReview();
        return inA(w, { method: 'PATCH', path: `${base}${r.id}/items/${r.itemId}/`, body: { decision: 'keep', note: 'matrix' } });
      },
    },
    {
      route: 'POST /api/organizations/:organization_id/access_reviews/:review_id/close/',
      access: write,
      who: 'admin',
      ok: 200,
      request: async () => {
        const r = await freshReview();
        return inA(w, { method: 'POST', path: `${base}${r.id}/close/`, body: { force: true }, cleanup: remove(r.projectId) });
      },
    },
  ];
}
