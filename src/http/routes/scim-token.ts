import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { issueScimToken, revokeScimToken } from '../../domain/sso/scim-tokens.js';
import { actorOf, type Deps } from '../deps.js';
import { NoContent } from '../schemas/common.js';
import { ScimTokenIssued, ScimTokenParams } from '../schemas/scim-token.js';
import { routeOrganization } from './organizations.js';

/*
 * SCIM token management (PostHog's `scim/token` action on OrganizationDomainViewSet): organization
 * admins turn SCIM on for a verified domain, getting its bearer token once (a new POST replaces it),
 * and turn it off with DELETE. Keys need organization:write.
 */
const TOKEN = '/api/organizations/:organization_id/domains/:domain_id/scim/token/';

/** Where a domain's SCIM service lives: the configured public URL, else the request's own origin. */
export function scimBaseUrl(request: FastifyRequest, publicUrl: string, domainId: string): string {
  const origin = publicUrl || `${request.protocol}://${request.host}`;
  return `${origin}/scim/v2/${domainId}`;
}

export function scimTokenRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const write = { access: scoped('organization', 'write') };

  api.post(TOKEN, { config: write, schema: { params: ScimTokenParams, response: { 201: ScimTokenIssued } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params;
    const { domain, token } = await db.transaction((tx) => issueScimToken(tx, actorOf(request), record.id, domain_id));
    reply.header('cache-control', 'no-store');
    return reply.code(201).send({
      scim_enabled: domain.scim_enabled,
      scim_base_url: scimBaseUrl(request, config.publicUrl, domain.id),
      scim_bearer_token: token,
    });
  });

  api.delete(TOKEN, { config: write, schema: { params: ScimTokenParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params;
    await db.transaction((tx) => revokeScimToken(tx, actorOf(request), record.id, domain_id));
    return reply.code(204).send();
  });
}
