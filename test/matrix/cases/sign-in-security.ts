import type { Case } from '../model.js';
import { inA } from './core.js';
import { addMember } from '../../helpers/world.js';
import type { World } from '../world.js';

/** Two-factor authentication and sessions. Codes sent here are never valid ("abcdef" is not a code). */
export function signInSecurityCases(w: World): Case[] {
  const user = { scope: 'user', action: 'write' } as const;
  return [
    {
      route: 'POST /api/login/token/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'POST', path: '/api/login/token/', body: { token: 'abcdef' } }),
    },
    {
      route: 'GET /api/users/:user_id/two_factor_status/',
      access: { scope: 'user', action: 'read' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/api/users/@me/two_factor_status/' }),
    },
    {
      route: 'POST /api/users/:user_id/start_2fa_setup/',
      access: user,
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'POST', path: '/api/users/@me/start_2fa_setup/' }),
    },
    {
      route: 'POST /api/users/:user_id/two_factor_validate/',
      access: user,
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'POST', path: '/api/users/@me/two_factor_validate/', body: { token: 'abcdef' } }),
    },
    {
      route: 'POST /api/users/:user_id/two_factor_disable/',
      access: user,
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'POST', path: '/api/users/@me/two_factor_disable/', body: { token: 'abcdef' } }),
    },
    {
      route: 'POST /api/users/:user_id/two_factor_backup_codes/',
      access: user,
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'POST', path: '/api/users/@me/two_factor_backup_codes/', body: { token: 'abcdef' } }),
    },
    // Passkeys: options are free to ask for; a made-up credential is refused (its challenge is unknown).
    {
      route: 'GET /api/users/:user_id/passkeys/',
      access: { scope: 'user', action: 'read' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/api/users/@me/passkeys/' }),
    },
    {
      route: 'POST /api/users/:user_id/passkeys/register_options/',
      access: user,
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'POST', path: '/api/users/@me/passkeys/register_options/' }),
    },
    {
      route: 'POST /api/users/:user_id/passkeys/',
      access: user,
      who: 'anyone',
      ok: 400,
      request: async () => ({
        method: 'POST',
        path: '/api/users/@me/passkeys/',
        body: { name: 'k', response: { id: 'x', response: { clientDataJSON: 'e30' } } },
      }),
    },
    {
      route: 'PATCH /api/users/:user_id/passkeys/:passkey_id/',
      access: user,
      who: 'anyone',
      ok: 404,
      request: async () => ({ method: 'PATCH', path: '/api/users/@me/passkeys/00000000-0000-4000-8000-000000000000/', body: { name: 'k' } }),
    },
    {
      route: 'DELETE /api/users/:user_id/passkeys/:passkey_id/',
      access: user,
      who: 'anyone',
      ok: 404,
      request: async () => ({ method: 'DELETE', path: '/api/users/@me/passkeys/00000000-0000-4000-8000-000000000000/' }),
    },
    {
      route: 'POST /api/login/passkey/options/',
      access: 'public',
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'POST', path: '/api/login/passkey/options/', body: {} }),
    },
    {
      route: 'POST /api/login/passkey/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'POST', path: '/api/login/passkey/', body: { response: { id: 'x', response: { clientDataJSON: 'e30' } } } }),
    },
    {
      route: 'GET /api/users/:user_id/sessions/',
      access: { scope: 'user', action: 'read' },
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/api/users/@me/sessions/' }),
    },
    // A session id nobody has: 404 for whoever may ask.
    {
      route: 'DELETE /api/users/:user_id/sessions/:session_id/',
      access: user,
      who: 'anyone',
      ok: 404,
      request: async () => ({ method: 'DELETE', path: '/api/users/@me/sessions/00000000-0000-4000-8000-000000000000/' }),
    },
    // Ending one's other sessions (with a key: all of them) would sign the world's people out:
    // their sessions are put back afterwards, exactly as they were.
    {
      route: 'POST /api/users/:user_id/sessions/end_others/',
      access: user,
      who: 'anyone',
      ok: 200,
      request: async (p) => {
        const userId = p.user ? w.people[p.user].user.id : 0;
        const before = await w.server.db.query<Record<string, unknown>>('SELECT * FROM sessions WHERE user_id = $1', [userId]);
        return {
          method: 'POST',
          path: '/api/users/@me/sessions/end_others/',
          cleanup: async () => {
            for (const row of before) {
              const columns = Object.keys(row);
              await w.server.db.query(
                `INSERT INTO sessions (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`,
                columns.map((c) => row[c]),
              );
            }
          },
        };
      },
    },
    {
      route: 'POST /api/organizations/:organization_id/members/:user_uuid/end_sessions/',
      access: { scope: 'organization_member', action: 'write' },
      who: 'admin',
      ok: 200,
      request: async () => {
        const target = await addMember({ id: w.orgA, owner: w.people.O, defaultProjectId: w.projectD }, 1);
        return inA(w, { method: 'POST', path: `/api/organizations/${w.orgA}/members/${target.user.uuid}/end_sessions/` });
      },
    },
  ];
}
