import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OrganizationLevel } from '../../access/levels.js';
import { scoped } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import { createGroupMapping, deleteGroupMapping, listGroupMappings } from '../../domain/sso/group-mapping-settings.js';
import { createDomain, deleteDomain, getDomain, listDomains, updateDomain, verifyDomain, withSamlMetadata } from '../../domain/sso/organization-domains.js';
import { txtLookup } from '../../sso/dns-verification.js';
import { outboundPolicy } from '../../net/outbound-policy.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers/domains.js';
import { NoContent, OrgParams } from '../schemas/common.js';
import {
  Domain,
  DomainCreate,
  DomainList,
  DomainParams,
  DomainPatch,
  GroupMapping,
  GroupMappingList,
  MappingCreate,
  MappingParams,
} from '../schemas/domains.js';
import { routeOrganization } from './organizations.js';

/*
 * PostHog's OrganizationDomainViewset: scope_object "organization"; members read, admins write
 * (OrganizationAdminWritePermissions). Warden adds OIDC settings and IdP group mappings.
 */
const DOMAINS = '/api/organizations/:organization_id/domains/';
const DOMAIN = `${DOMAINS}:domain_id/`;
const MAPPINGS = `${DOMAIN}group_mappings/`;

export function domainRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const outbound = outboundPolicy(config.outboundAllow);
  const read = { access: scoped('organization', 'read') };
  const write = { access: scoped('organization', 'write') };
  const lookup = txtLookup(config.dnsServers);
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const view = (request: FastifyRequest) => {
    const { membership } = routeOrganization(request);
    const isAdmin = (membership?.level ?? 0) >= OrganizationLevel.ADMIN;
    return (d: Parameters<typeof show.domain>[0]) => show.domain(d, config.publicUrl, isAdmin);
  };

  api.get(DOMAINS, { config: read, schema: { params: OrgParams, response: { 200: DomainList } } }, async (request) => {
    const { record } = routeOrganization(request);
    const page = readPage(request);
    const all = await listDomains(db, record.id);
    return paginated(request, page, all.length, all.slice(page.offset, page.offset + page.limit).map(view(request)));
  });

  api.post(DOMAINS, { config: write, schema: { params: OrgParams, body: DomainCreate, response: { 201: Domain } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain } = request.body;
    const created = await db.transaction((tx) => createDomain(tx, actorOf(request), record.id, domain));
    return reply.code(201).send(view(request)(created));
  });

  api.get(DOMAIN, { config: read, schema: { params: DomainParams, response: { 200: Domain } } }, async (request) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params;
    return view(request)(await getDomain(db, record.id, domain_id));
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    api.route({
      method,
      url: DOMAIN,
      config: write,
      schema: { params: DomainParams, body: DomainPatch, response: { 200: Domain } },
      handler: async (request) => {
        const { record } = routeOrganization(request);
        const { domain_id } = request.params;
        const patch = await withSamlMetadata(request.body, outbound);
        return view(request)(await db.transaction((tx) => updateDomain(tx, actorOf(request), record.id, domain_id, patch)));
      },
    });
  }

  api.delete(DOMAIN, { config: write, schema: { params: DomainParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params;
    await db.transaction((tx) => deleteDomain(tx, actorOf(request), record.id, domain_id));
    return reply.code(204).send();
  });

  api.post(`${DOMAIN}verify/`, { config: write, schema: { params: DomainParams, response: { 200: Domain } } }, async (request) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params;
    const checked = await verifyDomain(db, actorOf(request), record.id, domain_id, async (name) => {
      try {
        return await lookup(name);
      } catch (err) {
        request.log.warn({ err, name }, 'domain verification lookup failed');
        throw validation(`Could not look up the TXT record ${name}: the DNS server did not answer.`, null, 'dns_lookup_failed');
      }
    });
    return view(request)(checked);
  });

  api.get(MAPPINGS, { config: read, schema: { params: DomainParams, response: { 200: GroupMappingList } } }, async (request) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params;
    const page = readPage(request);
    const all = await listGroupMappings(db, record.id, domain_id);
    return paginated(request, page, all.length, all.slice(page.offset, page.offset + page.limit).map(show.groupMapping));
  });

  api.post(MAPPINGS, { config: write, schema: { params: DomainParams, body: MappingCreate, response: { 201: GroupMapping } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params;
    const input = request.body;
    const created = await db.transaction((tx) => createGroupMapping(tx, actorOf(request), record.id, domain_id, input));
    return reply.code(201).send(show.groupMapping(created));
  });

  api.delete(`${MAPPINGS}:mapping_id/`, { config: write, schema: { params: MappingParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id, mapping_id } = request.params;
    await db.transaction((tx) => deleteGroupMapping(tx, actorOf(request), record.id, domain_id, mapping_id));
    return reply.code(204).send();
  });
}
