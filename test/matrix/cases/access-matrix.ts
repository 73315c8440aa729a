import type { Case } from '../model.js';
import type { World } from '../world.js';
import { inA } from './core.js';

/**
 * The access matrix (src/matrix/): export and plan read (organization:read), apply writes
 * (organization:write); admins and owners only. The apply case is a dry run, so nothing changes.
 */
export function accessMatrixCases(w: World): Case[] {
  const base = `/api/organizations/${w.orgA}/access_matrix/`;
  const document = 'access_matrix: {}\n';
  return [
    {
      route: 'GET /api/organizations/:organization_id/access_matrix/',
      access: { scope: 'organization', action: 'read' },
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'GET', path: base }),
    },
    {
      route: 'POST /api/organizations/:organization_id/access_matrix/plan/',
      access: { scope: 'organization', action: 'read' },
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'POST', path: `${base}plan/`, body: { document } }),
    },
    {
      route: 'POST /api/organizations/:organization_id/access_matrix/',
      access: { scope: 'organization', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => inA(w, { method: 'POST', path: base, body: { document, dry_run: true } }),
    },
  ];
}
