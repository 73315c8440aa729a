import type { Case } from '../model.js';
import type { World } from '../world.js';

/**
 * SAML routes are public: the browser flow carries no Warden credentials, and whoever calls them
 * gets the same answer. The ACS takes only the HTTP-POST binding's form, so a JSON body is a 415;
 * a login for an address without a SAML domain is PostHog's 400. The SP metadata is public (it
 * names only the instance's entity id and ACS URL; IdPs import it by URL).
 */
export function samlCases(_w: World): Case[] {
  return [
    {
      route: 'GET /login/saml/',
      access: 'public',
      who: 'anyone',
      ok: 400,
      request: async () => ({ method: 'GET', path: '/login/saml/?email=nobody@no-saml-domain.example' }),
    },
    {
      route: 'POST /complete/saml/',
      access: 'public',
      who: 'anyone',
      ok: 415,
      request: async () => ({ method: 'POST', path: '/complete/saml/', body: { SAMLResponse: 'x' } }),
    },
    { route: 'GET /api/saml/metadata/', access: 'public', who: 'anyone', ok: 200, request: async () => ({ method: 'GET', path: '/api/saml/metadata/' }) },
  ];
}
