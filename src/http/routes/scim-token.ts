import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { issueScimToken, revokeScimToken } from '../../domain/scim-tokens.js';
import { actorOf, type Deps } from '../deps.js';
import { routeOrganization } from './organizations.js';

/*
 * SCIM token management (PostHog's `scim/token` action on OrganizationDomainViewSet): organization
 * admins turn SCIM on for a verified domain, getting its bearer token once (a new POST replaces it),
 * and turn it off with DELETE. Keys need organization:write.
 */
const Params = Type.Object({ organization_id: Type.String(), domain_id: Type.String() });
const TOKEN = '/api/organizations/:organization_id/domains/:domain_id/scim/token/';

/** Where a domain's SCIM service lives: the configured public URL, else the request's own origin. */
export function scimBaseUrl(request: FastifyRequest, publicUrl: string, domainId: string): string {
  const origin = publicUrl || `${request.protocol}://${request.host}`;
  return `${origin}/scim/v2/${domainId}`;
}

export function scimTokenRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const write = { access: scoped('organization', 'write') };

  app.post(TOKEN, { config: write, schema: { params: Params } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params as Static<typeof Params>;
    const { domain, token } = await db.transaction((tx) => issueScimToken(tx, actorOf(request), record.id, domain_id));
    reply.header('cache-control', 'no-store');
    return reply.code(201).send({
      scim_enabled: domain.scim_enabled,
      scim_base_url: scimBaseUrl(request, config.publicUrl, domain.id),
      scim_bearer_token: token,
    });
  });

  app.delete(TOKEN, { config: write, schema: { params: Params } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params as Static<typeof Params>;
    await db.transaction((tx) => revokeScimToken(tx, actorOf(request), record.id, domain_id));
    return reply.code(204).send();
  });
}
