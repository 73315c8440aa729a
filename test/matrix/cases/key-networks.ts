/**
 * Keys bound to networks and rates (docs/key-networks.md): the route that changes a service
 * account's key (its ranges and rate among the rest), on a Member-level account (admins) and on an
 * Owner-level one (owners only: the grant ceiling). The keys used from outside their ranges are
 * principals of the world (test/matrix/world.ts): refused 403 on every route that takes a key.
 */
import type { Case } from '../model.js';
import { ownerLevelServiceAccount, serviceAccountWithKey, type World } from '../world.js';
import { inA } from './core.js';

const MEMBER_WRITE = { scope: 'organization_member', action: 'write' } as const;
const ROUTE = 'PATCH /api/organizations/:organization_id/service_accounts/:account_id/keys/:key_id/';

export function keyNetworkCases(w: World): Case[] {
  const patch = async (ownerLevel: boolean) => {
    const { account, key } = await serviceAccountWithKey(w, ownerLevel ? await ownerLevelServiceAccount(w) : undefined);
    return inA(w, {
      method: 'PATCH',
      path: `/api/organizations/${w.orgA}/service_accounts/${account}/keys/${key}/`,
      body: { allowed_ips: ['192.0.2.0/24', '2001:db8::/32'], rate_limit_per_minute: 600 },
    });
  };
  return [
    { route: ROUTE, access: MEMBER_WRITE, who: 'admin', ok: 200, request: () => patch(false) },
    { route: ROUTE, access: MEMBER_WRITE, who: 'owner', ok: 200, request: () => patch(true) },
  ];
}
