/**
 * The grant ceiling on service accounts: the same routes as in core.ts, on an account an owner
 * raised to Owner level. Only owners may mint, roll or delete its keys, or delete it: an admin's
 * key for it would act as an owner. (The route also has its usual case, on a Member-level account.)
 */
import type { Case } from '../model.js';
import { ownerLevelServiceAccount, serviceAccountWithKey, type World } from '../world.js';
import { inA } from './core.js';

const MEMBER_WRITE = { scope: 'organization_member', action: 'write' } as const;
const accounts = (w: World) => `/api/organizations/${w.orgA}/service_accounts/`;

export function ceilingCases(w: World): Case[] {
  return [
    {
      route: 'POST /api/organizations/:organization_id/service_accounts/:account_id/keys/',
      access: MEMBER_WRITE,
      who: 'owner',
      ok: 201,
      request: async () =>
        inA(w, { method: 'POST', path: `${accounts(w)}${await ownerLevelServiceAccount(w)}/keys/`, body: { label: 'k', scopes: ['project:read'] } }),
    },
    {
      route: 'POST /api/organizations/:organization_id/service_accounts/:account_id/keys/:key_id/roll/',
      access: MEMBER_WRITE,
      who: 'owner',
      ok: 200,
      request: async () => {
        const { account, key } = await serviceAccountWithKey(w, await ownerLevelServiceAccount(w));
        return inA(w, { method: 'POST', path: `${accounts(w)}${account}/keys/${key}/roll/` });
      },
    },
    {
      route: 'DELETE /api/organizations/:organization_id/service_accounts/:account_id/keys/:key_id/',
      access: MEMBER_WRITE,
      who: 'owner',
      ok: 204,
      request: async () => {
        const { account, key } = await serviceAccountWithKey(w, await ownerLevelServiceAccount(w));
        return inA(w, { method: 'DELETE', path: `${accounts(w)}${account}/keys/${key}/` });
      },
    },
    {
      route: 'DELETE /api/organizations/:organization_id/service_accounts/:account_id/',
      access: MEMBER_WRITE,
      who: 'owner',
      ok: 204,
      request: async () => inA(w, { method: 'DELETE', path: `${accounts(w)}${await ownerLevelServiceAccount(w)}/` }),
    },
  ];
}
