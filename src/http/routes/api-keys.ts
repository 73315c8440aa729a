import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { RouteAccess } from '../../access/route-access.js';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, rollApiKey, updateApiKey } from '../../domain/organizations/api-keys.js';
import { actorOf, currentUser, type Deps } from '../deps.js';
import { NoContent } from '../schemas/common.js';
import { ApiKey, ApiKeyList, KeyBody, KeyParams } from '../schemas/api-keys.js';
import * as show from '../serializers.js';

/** The key fields, for the service accounts' keys (src/http/routes/service-accounts.ts). */
export { KeyFields } from '../schemas/api-keys.js';

/** Key management takes a session, or a `*` key (which the source document's step 2 uses). */
const manage: RouteAccess = { kind: 'key_management', keys: 'all-scopes' };
const readSelf: RouteAccess = { kind: 'key_management', keys: 'self' };

export function apiKeyRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/personal_api_keys/', { config: { access: manage }, schema: { response: { 200: ApiKeyList } } }, async (request) => {
    return (await listApiKeys(db, currentUser(request).id)).map((k) => show.apiKey(k));
  });

  api.post('/api/personal_api_keys/', { config: { access: manage }, schema: { body: KeyBody, response: { 201: ApiKey } } }, async (request, reply) => {
    const { key, value } = await db.transaction((tx) => createApiKey(tx, actorOf(request), currentUser(request), request.body));
    return reply.code(201).send(show.apiKey(key, value));
  });

  api.get('/api/personal_api_keys/:key_id/', { config: { access: readSelf }, schema: { params: KeyParams, response: { 200: ApiKey } } }, async (request) =>
    show.apiKey(await getApiKey(db, currentUser(request).id, request.params.key_id, request.ctx.apiKey?.id)),
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    api.route({
      method,
      url: '/api/personal_api_keys/:key_id/',
      config: { access: manage },
      schema: { params: KeyParams, body: KeyBody, response: { 200: ApiKey } },
      handler: async (request) => {
        const key = await db.transaction((tx) => updateApiKey(tx, actorOf(request), currentUser(request), request.params.key_id, request.body));
        return show.apiKey(key);
      },
    });
  }

  api.delete(
    '/api/personal_api_keys/:key_id/',
    { config: { access: manage }, schema: { params: KeyParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await db.transaction((tx) => deleteApiKey(tx, actorOf(request), currentUser(request), request.params.key_id));
      return reply.code(204).send();
    },
  );

  api.post(
    '/api/personal_api_keys/:key_id/roll/',
    { config: { access: manage }, schema: { params: KeyParams, response: { 200: ApiKey } } },
    async (request) => {
      const { key, value } = await db.transaction((tx) => rollApiKey(tx, actorOf(request), currentUser(request), request.params.key_id));
      return show.apiKey(key, value);
    },
  );
}
