import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { OrganizationLevel } from '../../access/levels.js';
import { scoped } from '../../access/route-access.js';
import { permissionDenied } from '../../domain/errors.js';
import { listOrganizationKeys, mayRevoke, revokeOrganizationKey, type InventoryKey as Key } from '../../domain/organizations/key-inventory.js';
import { INSUFFICIENT_ORG_LEVEL } from '../../access/messages.js';
import { actorOf, type Deps } from '../deps.js';
import { InventoryKeyParams, InventoryList, InventoryParams, type InventoryKey } from '../schemas/key-inventory.js';
import { routeOrganization } from './organizations.js';
import { NoContent } from '../schemas/common.js';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function show(key: Key, callerLevel: number): Static<typeof InventoryKey> {
  return {
    id: key.id,
    label: key.label,
    mask_value: key.mask_value,
    scopes: key.scopes,
    scoped_teams: key.scoped_teams ?? [],
    scoped_organizations: key.scoped_organizations ?? [],
    created_at: iso(key.created_at)!,
    last_used_at: iso(key.last_used_at),
    last_rolled_at: iso(key.last_rolled_at),
    expires_at: iso(key.expires_at),
    allowed_ips: key.allowed_ips,
    rate_limit_per_minute: key.rate_limit_per_minute,
    owner: key.owner,
    can_revoke: mayRevoke(callerLevel, key),
  };
}

/**
 * The organization's key inventory: its admins list every member's personal API keys that reach the
 * organization and revoke them (not those of members above their own level). Keys need
 * `organization_member:read` to list and `organization_member:write` to revoke.
 */
export function keyInventoryRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/api/organizations/:organization_id/personal_api_keys/',
    {
      config: { access: scoped('organization_member', 'read') },
      schema: { params: InventoryParams, response: { 200: InventoryList } },
    },
    async (request) => {
      const { record, membership } = routeOrganization(request);
      if (membership.level < OrganizationLevel.ADMIN) throw permissionDenied(INSUFFICIENT_ORG_LEVEL);
      const keys = await listOrganizationKeys(db, record.id);
      return { count: keys.length, results: keys.map((k) => show(k, membership.level)) };
    },
  );

  api.delete(
    '/api/organizations/:organization_id/personal_api_keys/:key_id/',
    { config: { access: scoped('organization_member', 'write') }, schema: { params: InventoryKeyParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { record } = routeOrganization(request);
      await db.transaction((tx) => revokeOrganizationKey(tx, actorOf(request), record.id, request.params.key_id));
      return reply.code(204).send();
    },
  );
}
