import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { scimToken } from '../../access/route-access.js';
import { createScimGroup, deleteScimGroup, getScimGroup, listScimGroups, replaceScimGroup } from '../../domain/sso/scim-groups.js';
import { authenticateScimToken, recordScimAuthFailure } from '../../domain/sso/scim-tokens.js';
import { createScimUser, deleteScimUser, getScimUser, listScimUsers, replaceScimUser } from '../../domain/sso/scim-users.js';
import type { DomainRecord } from '../../domain/sso/sso-domains.js';
import { MAX_RESULTS, resourceTypes, schemas, serviceProviderConfig } from '../../scim/discovery.js';
import { recordRefusal } from '../refusals.js';
import { SCIM_CONTENT_TYPE, scimBadRequest, scimErrorBody, ScimError, scimNotFound } from '../../scim/errors.js';
import { toScimError } from '../scim-errors.js';
import { parseFilter, type Filter } from '../../scim/filter.js';
import { applyPatch, readOperations } from '../../scim/patch.js';
import { groupResource, listResponse, readGroup, readUser, userResource } from '../../scim/resources.js';
import type { Deps } from '../deps.js';
import { HttpError } from '../errors.js';
import { LIMITS } from '../rate-limits.js';
import { allowedMethods, collectRouteTable, type RouteEntry } from '../route-table.js';
import { NoContent } from '../schemas/common.js';
import {
  ScimDocParams,
  ScimDocument,
  ScimDocumentList,
  ScimDomainParams as DomainParams,
  ScimGroup,
  ScimGroupList,
  ScimGroupParams as GroupParams,
  ScimQuery,
  ScimUser,
  ScimUserList,
  ScimUserParams as UserParams,
} from '../schemas/scim.js';
import { scimBaseUrl, scimTokenRoutes } from './scim-token.js';

/*
 * SCIM 2.0 (RFC 7643/7644) at /scim/v2/:domain_id/, as PostHog's ee/api/scim serves it: Users,
 * Groups (= roles) and the discovery documents. Every route authenticates the bearer token of the
 * domain in its path (before the body is even parsed); the guard stays out (access `scim_token`).
 * Everything under /scim/v2 answers in SCIM's media type and error shape, errors of the body
 * parser and the router included.
 */
const PREFIX = '/scim/v2';
const BEARER = /^bearer\s+(\S+)\s*$/i;

function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  return match && match[1]!.length <= 400 ? match[1]! : null;
}

/** startIndex (1-based) and count, as RFC 7644 §3.4.2.4 reads them: below the minimum means the minimum. */
function readPaging(query: Record<string, unknown>): { startIndex: number; offset: number; limit: number } {
  const int = (name: string, fallback: number) => {
    const value = query[name];
    if (value === undefined || value === '') return fallback;
    if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value.trim())) throw scimBadRequest('invalidValue', `${name} must be an integer.`);
    return Number(value);
  };
  const startIndex = Math.max(1, int('startIndex', 1));
  const limit = Math.min(Math.max(0, int('count', 100)), MAX_RESULTS);
  return { startIndex, offset: startIndex - 1, limit };
}

function readFilter(query: Record<string, unknown>): Filter | null {
  const value = query.filter;
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw scimBadRequest('invalidFilter', 'Give one filter.');
  return parseFilter(value);
}

/** `excludedAttributes=members` (Entra asks for groups without their members). */
function excludes(query: Record<string, unknown>, attribute: string): boolean {
  const value = query.excludedAttributes;
  return typeof value === 'string' && value.split(',').some((a) => a.trim().toLowerCase() === attribute.toLowerCase());
}

/** The SCIM routes (the same in every app): for 405 answers. */
let scimTable: readonly RouteEntry[] = [];
const isScimPath = (url: string) => url === PREFIX || url.startsWith(`${PREFIX}/`) || url.startsWith(`${PREFIX}?`);

/** The router's own errors (malformed percent-encoding, over-long segments) under /scim/v2, in SCIM's shape. */
export function scimFrameworkError(error: unknown, request: FastifyRequest, reply: FastifyReply): boolean {
  if (!isScimPath(request.url)) return false;
  const { status, body } = toScimError(error);
  void reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
  return true;
}

/**
 * 404 and 405 under /scim/v2, in SCIM's shape; false for other paths. The app's not-found handler
 * asks this first (a catch-all route elsewhere may hand /scim paths to it). A path that matches a
 * route with this very method but was not routed (a segment over the router's length limit) is a 404.
 */
export function answerScimNotFound(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!isScimPath(request.url)) return false;
  const path = request.url.split('?')[0] ?? '/';
  const allowed = allowedMethods(scimTable, path);
  if (allowed.length > 0 && !allowed.includes(request.method)) {
    reply.header('allow', allowed.join(', '));
    void reply
      .code(405)
      .type(SCIM_CONTENT_TYPE)
      .send(scimErrorBody(405, `Method "${request.method}" not allowed.`));
  } else {
    void reply.code(404).type(SCIM_CONTENT_TYPE).send(scimErrorBody(404, 'Not found.'));
  }
  return true;
}

export function scimRoutes(app: FastifyInstance, deps: Deps): void {
  scimTokenRoutes(app, deps);
  void app.register(async (scim) => scimService(scim, deps), { prefix: PREFIX });
}

async function scimService(scim: FastifyInstance, { db, config, limiter }: Deps): Promise<void> {
  const domains = new WeakMap<FastifyRequest, DomainRecord>();
  // Every app registers the same SCIM routes: the latest table serves them all.
  scimTable = collectRouteTable(scim);
  const access = { access: scimToken };
  const domainOf = (request: FastifyRequest) => domains.get(request)!;
  const base = (request: FastifyRequest) => scimBaseUrl(request, config.publicUrl, domainOf(request).id);

  // SCIM's media type and plain JSON; an empty body is nothing (IdPs send a content type with DELETE).
  const json = scim.getDefaultJsonParser('error', 'error');
  scim.removeContentTypeParser('application/json');
  scim.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && (request.method === 'DELETE' || request.method === 'GET')) return done(null, undefined);
    return json(request, body as string, done);
  });

  scim.setErrorHandler(async (error, request, reply) => {
    await recordRefusal(db, request, error, domains.get(request)?.organization_id);
    const { status, body } = toScimError(error);
    if (status >= 500) request.log.error({ err: error }, 'SCIM request failed');
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="SCIM"');
    return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
  });

  scim.setNotFoundHandler((request, reply) => {
    answerScimNotFound(request, reply);
  });

  // The domain's token, before anything else about the request is looked at.
  scim.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.access?.kind !== 'scim_token') return;
    await refuseIfThrottled(() => limiter.refuseIfBlocked(LIMITS.scimFailuresPerAddress, request.ip), reply);
    const domainId = (request.params as { domain_id?: string }).domain_id ?? '';
    const presented = presentedToken(request);
    const result = await authenticateScimToken(db, domainId, presented);
    if ('failure' in result) {
      // Counted atomically: concurrent failures beyond the limit are answered 429, not 401.
      await refuseIfThrottled(() => limiter.fail(LIMITS.scimFailuresPerAddress, request.ip), reply);
      await recordScimAuthFailure(db, { domainId, ...(result.domain ? { domain: result.domain } : {}), failure: result.failure, presented }, request.log);
      throw new ScimError(401, presented ? 'The SCIM token is not valid for this domain.' : 'A SCIM bearer token is required.');
    }
    domains.set(request, result.domain);
  });

  scim.addHook('onSend', async (_request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json')) reply.type(SCIM_CONTENT_TYPE);
    return payload;
  });

  /** A created resource's Location header. */
  const locate = (reply: FastifyReply, resource: { meta: { location: string } }) => void reply.header('location', resource.meta.location);
  const api = scim.withTypeProvider<TypeBoxTypeProvider>();

  // ---- Discovery ------------------------------------------------------------------------------

  api.get('/:domain_id/ServiceProviderConfig', { config: access, schema: { params: DomainParams, response: { 200: ScimDocument } } }, async (request) =>
    serviceProviderConfig(base(request)),
  );
  api.get('/:domain_id/ResourceTypes', { config: access, schema: { params: DomainParams, response: { 200: ScimDocumentList } } }, async (request) => {
    const all = resourceTypes(base(request));
    return listResponse(all, all.length, 1);
  });
  api.get('/:domain_id/ResourceTypes/:doc_id', { config: access, schema: { params: ScimDocParams, response: { 200: ScimDocument } } }, async (request) => {
    const { doc_id } = request.params;
    const found = resourceTypes(base(request)).find((t) => t.id === doc_id);
    if (!found) throw scimNotFound(`Resource type ${doc_id} not found.`);
    return found;
  });
  api.get('/:domain_id/Schemas', { config: access, schema: { params: DomainParams, response: { 200: ScimDocumentList } } }, async (request) => {
    const all = schemas(base(request));
    return listResponse(all, all.length, 1);
  });
  api.get('/:domain_id/Schemas/:doc_id', { config: access, schema: { params: ScimDocParams, response: { 200: ScimDocument } } }, async (request) => {
    const { doc_id } = request.params;
    const found = schemas(base(request)).find((s) => s.id === doc_id);
    if (!found) throw scimNotFound(`Schema ${doc_id} not found.`);
    return found;
  });

  // ---- Users ----------------------------------------------------------------------------------

  api.get(
    '/:domain_id/Users',
    { config: access, schema: { params: DomainParams, querystring: ScimQuery, response: { 200: ScimUserList } } },
    async (request) => {
      const q = request.query;
      const filter = readFilter(q);
      const { startIndex, offset, limit } = readPaging(q);
      const { total, rows } = await listScimUsers(db, domainOf(request), { filter, offset, limit });
      return listResponse(
        rows.map((r) => userResource(r, base(request))),
        total,
        startIndex,
      );
    },
  );

  api.post('/:domain_id/Users', { config: access, schema: { params: DomainParams, response: { 201: ScimUser } } }, async (request, reply) => {
    const input = readUser(request.body);
    const row = await db.transaction((tx) => createScimUser(tx, domainOf(request), input));
    const resource = userResource(row, base(request));
    locate(reply, resource);
    return reply.code(201).send(resource);
  });

  api.get('/:domain_id/Users/:user_id', { config: access, schema: { params: UserParams, response: { 200: ScimUser } } }, async (request) => {
    const { user_id } = request.params;
    return userResource(await getScimUser(db, domainOf(request), user_id), base(request));
  });

  api.put('/:domain_id/Users/:user_id', { config: access, schema: { params: UserParams, response: { 200: ScimUser } } }, async (request) => {
    const { user_id } = request.params;
    const input = readUser(request.body);
    const row = await db.transaction((tx) => replaceScimUser(tx, domainOf(request), user_id, input));
    return userResource(row, base(request));
  });

  api.patch('/:domain_id/Users/:user_id', { config: access, schema: { params: UserParams, response: { 200: ScimUser } } }, async (request) => {
    const { user_id } = request.params;
    const operations = readOperations(request.body);
    const domain = domainOf(request);
    const row = await db.transaction(async (tx) => {
      const current = userResource(await getScimUser(tx, domain, user_id, true), base(request));
      return replaceScimUser(tx, domain, user_id, readUser(applyPatch(current, operations)));
    });
    return userResource(row, base(request));
  });

  api.delete('/:domain_id/Users/:user_id', { config: access, schema: { params: UserParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { user_id } = request.params;
    await db.transaction((tx) => deleteScimUser(tx, domainOf(request), user_id));
    return reply.code(204).send();
  });

  // ---- Groups ---------------------------------------------------------------------------------

  api.get(
    '/:domain_id/Groups',
    { config: access, schema: { params: DomainParams, querystring: ScimQuery, response: { 200: ScimGroupList } } },
    async (request) => {
      const q = request.query;
      const filter = readFilter(q);
      const { startIndex, offset, limit } = readPaging(q);
      const includeMembers = !excludes(q, 'members');
      const { total, rows } = await listScimGroups(db, domainOf(request), { filter, offset, limit, includeMembers });
      return listResponse(
        rows.map((r) => groupResource(r, base(request), includeMembers)),
        total,
        startIndex,
      );
    },
  );

  api.post('/:domain_id/Groups', { config: access, schema: { params: DomainParams, response: { 201: ScimGroup } } }, async (request, reply) => {
    const input = readGroup(request.body);
    const row = await db.transaction((tx) => createScimGroup(tx, domainOf(request), input));
    const resource = groupResource(row, base(request));
    locate(reply, resource);
    return reply.code(201).send(resource);
  });

  api.get(
    '/:domain_id/Groups/:group_id',
    { config: access, schema: { params: GroupParams, querystring: ScimQuery, response: { 200: ScimGroup } } },
    async (request) => {
      const { group_id } = request.params;
      const includeMembers = !excludes(request.query, 'members');
      return groupResource(await getScimGroup(db, domainOf(request), group_id, includeMembers), base(request), includeMembers);
    },
  );

  api.put('/:domain_id/Groups/:group_id', { config: access, schema: { params: GroupParams, response: { 200: ScimGroup } } }, async (request) => {
    const { group_id } = request.params;
    const input = readGroup(request.body);
    return groupResource(await db.transaction((tx) => replaceScimGroup(tx, domainOf(request), group_id, input)), base(request));
  });

  api.patch('/:domain_id/Groups/:group_id', { config: access, schema: { params: GroupParams, response: { 200: ScimGroup } } }, async (request) => {
    const { group_id } = request.params;
    const operations = readOperations(request.body);
    const domain = domainOf(request);
    const row = await db.transaction(async (tx) => {
      const current = groupResource(await getScimGroup(tx, domain, group_id), base(request));
      return replaceScimGroup(tx, domain, group_id, readGroup(applyPatch(current, operations)));
    });
    // Okta and Entra ID take 200 with the resource as well as 204.
    return groupResource(row, base(request));
  });

  api.delete('/:domain_id/Groups/:group_id', { config: access, schema: { params: GroupParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { group_id } = request.params;
    await db.transaction((tx) => deleteScimGroup(tx, domainOf(request), group_id));
    return reply.code(204).send();
  });
}

/** A throttled SCIM client gets SCIM's error shape with Retry-After. */
async function refuseIfThrottled(check: () => void | Promise<void>, reply: FastifyReply): Promise<void> {
  try {
    await check();
  } catch (err) {
    if (!(err instanceof HttpError) || err.status !== 429) throw err;
    reply.header('retry-after', err.headers['retry-after']);
    throw new ScimError(429, err.body.detail);
  }
}
