import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OrganizationLevel } from '../../access/levels.js';
import { scoped } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import { createGroupMapping, deleteGroupMapping, listGroupMappings } from '../../domain/group-mapping-settings.js';
import {
  createDomain,
  deleteDomain,
  getDomain,
  listDomains,
  updateDomain,
  verifyDomain,
  withSamlMetadata,
} from '../../domain/organization-domains.js';
import { txtLookup } from '../../sso/dns-verification.js';
import { outboundPolicy } from '../../net/outbound-policy.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers/domains.js';
import { OrgParams, routeOrganization } from './organizations.js';

/*
 * PostHog's OrganizationDomainViewset: scope_object "organization"; members read, admins write
 * (OrganizationAdminWritePermissions). Warden adds OIDC settings and IdP group mappings.
 */
const DomainParams = Type.Object({ organization_id: Type.String(), domain_id: Type.String() });
const MappingParams = Type.Object({ organization_id: Type.String(), domain_id: Type.String(), mapping_id: Type.String() });
const DomainCreate = Type.Object({ domain: Type.String({ maxLength: 300 }) });
const NullableText = (maxLength: number) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));
const DomainPatch = Type.Object(
  {
    jit_provisioning_enabled: Type.Optional(Type.Boolean()),
    sso_enforcement: Type.Optional(Type.String({ maxLength: 28 })),
    saml_entity_id: NullableText(1024),
    saml_acs_url: NullableText(2048),
    saml_x509_cert: NullableText(40_000),
    saml_metadata_url: NullableText(2048),
    saml_metadata_xml: Type.Optional(Type.String({ maxLength: 500_000 })),
    saml_idp_initiated_enabled: Type.Optional(Type.Boolean()),
    saml_allow_sha1: Type.Optional(Type.Boolean()),
    oidc_issuer: NullableText(2048),
    oidc_client_id: NullableText(1024),
    oidc_client_secret: NullableText(4096),
    group_attribute: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
const MappingCreate = Type.Object(
  {
    group_name: Type.String({ maxLength: 1000 }),
    level: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    role_id: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const DOMAINS = '/api/organizations/:organization_id/domains/';
const DOMAIN = `${DOMAINS}:domain_id/`;
const MAPPINGS = `${DOMAIN}group_mappings/`;

export function domainRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const outbound = outboundPolicy(config.outboundAllow);
  const read = { access: scoped('organization', 'read') };
  const write = { access: scoped('organization', 'write') };
  const lookup = txtLookup(config.dnsServers);
  const view = (request: FastifyRequest) => {
    const { membership } = routeOrganization(request);
    const isAdmin = (membership?.level ?? 0) >= OrganizationLevel.ADMIN;
    return (d: Parameters<typeof show.domain>[0]) => show.domain(d, config.publicUrl, isAdmin);
  };

  app.get(DOMAINS, { config: read, schema: { params: OrgParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const page = readPage(request);
    const all = await listDomains(db, record.id);
    return paginated(request, page, all.length, all.slice(page.offset, page.offset + page.limit).map(view(request)));
  });

  app.post(DOMAINS, { config: write, schema: { params: OrgParams, body: DomainCreate } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain } = request.body as Static<typeof DomainCreate>;
    const created = await db.transaction((tx) => createDomain(tx, actorOf(request), record.id, domain));
    return reply.code(201).send(view(request)(created));
  });

  app.get(DOMAIN, { config: read, schema: { params: DomainParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params as Static<typeof DomainParams>;
    return view(request)(await getDomain(db, record.id, domain_id));
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: DOMAIN,
      config: write,
      schema: { params: DomainParams, body: DomainPatch },
      handler: async (request) => {
        const { record } = routeOrganization(request);
        const { domain_id } = request.params as Static<typeof DomainParams>;
        const patch = await withSamlMetadata(request.body as Static<typeof DomainPatch>, outbound);
        return view(request)(await db.transaction((tx) => updateDomain(tx, actorOf(request), record.id, domain_id, patch)));
      },
    });
  }

  app.delete(DOMAIN, { config: write, schema: { params: DomainParams } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params as Static<typeof DomainParams>;
    await db.transaction((tx) => deleteDomain(tx, actorOf(request), record.id, domain_id));
    return reply.code(204).send();
  });

  app.post(`${DOMAIN}verify/`, { config: write, schema: { params: DomainParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params as Static<typeof DomainParams>;
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

  app.get(MAPPINGS, { config: read, schema: { params: DomainParams } }, async (request) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params as Static<typeof DomainParams>;
    const page = readPage(request);
    const all = await listGroupMappings(db, record.id, domain_id);
    return paginated(request, page, all.length, all.slice(page.offset, page.offset + page.limit).map(show.groupMapping));
  });

  app.post(MAPPINGS, { config: write, schema: { params: DomainParams, body: MappingCreate } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id } = request.params as Static<typeof DomainParams>;
    const input = request.body as Static<typeof MappingCreate>;
    const created = await db.transaction((tx) => createGroupMapping(tx, actorOf(request), record.id, domain_id, input));
    return reply.code(201).send(show.groupMapping(created));
  });

  app.delete(`${MAPPINGS}:mapping_id/`, { config: write, schema: { params: MappingParams } }, async (request, reply) => {
    const { record } = routeOrganization(request);
    const { domain_id, mapping_id } = request.params as Static<typeof MappingParams>;
    await db.transaction((tx) => deleteGroupMapping(tx, actorOf(request), record.id, domain_id, mapping_id));
    return reply.code(204).send();
  });
}
