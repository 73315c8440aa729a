import type { Case } from '../model.js';
import type { World } from '../world.js';

/**
 * The admin console (src/http/routes/console.ts) is public: its page is the same for everyone, and
 * every API call it then makes is judged on its own. A browser's request for a console path gets
 * the page; the console's data never comes from these routes.
 */
export function consoleCases(_w: World): Case[] {
  return [
    { route: 'GET /', access: 'public', who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/' }) },
    // PostHog's instance facts for signed-out pages (has an owner, sign-up open): the same for everyone.
    { route: 'GET /api/preflight/', access: 'public', who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/api/preflight/' }) },
    {
      route: 'GET /*',
      access: 'public',
      who: 'anyone',
      ok: 200,
      request: async () => ({ method: 'GET', path: '/members', headers: { accept: 'text/html' } }),
    },
  ];
}
