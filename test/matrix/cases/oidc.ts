import type { Case } from '../model.js';
import type { World } from '../world.js';

/**
 * OIDC sign-in routes are public: the same answer for everyone, credentials or not. Without a
 * verified OIDC domain the start is refused; a callback with a state Warden never issued is refused.
 */
export function oidcCases(_w: World): Case[] {
  return [
    {
      route: 'GET /login/oidc/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'GET', path: '/login/oidc/?email=nobody@no-sso.example' }),
    },
    {
      route: 'GET /complete/oidc/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'GET', path: '/complete/oidc/?code=c&state=never-issued' }),
    },
  ];
}
