import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RouteAccess } from '../../access/route-access.js';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, rollApiKey, updateApiKey } from '../../domain/api-keys.js';
import { actorOf, currentUser, type Deps } from '../deps.js';
import * as show from '../serializers.js';

const KeyParams = Type.Object({ key_id: Type.String({ maxLength: 64 }) });
export const KeyFields = {
  label: Type.Optional(Type.String()),
  scopes: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 300 })),
  scoped_teams: Type.Optional(Type.Union([Type.Array(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), { maxItems: 1000 }), Type.Null()])),
  scoped_organizations: Type.Optional(Type.Union([Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000 }), Type.Null()])),
  expires_at: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
};
const KeyBody = Type.Object(KeyFields, { additionalProperties: false });

/** Key management takes a session, or a `*` key (which the source document's step 2 uses). */
const manage: RouteAccess = { kind: 'key_management', keys: 'all-scopes' };
const readSelf: RouteAccess = { kind: 'key_management', keys: 'self' };

export function apiKeyRoutes(app: FastifyInstance, { db }: Deps): void {
  app.get('/api/personal_api_keys/', { config: { access: manage } }, async (request) => {
    return (await listApiKeys(db, currentUser(request).id)).map((k) => show.apiKey(k));
  });

  app.post('/api/personal_api_keys/', { config: { access: manage }, schema: { body: KeyBody } }, async (request, reply) => {
    const body = request.body as Static<typeof KeyBody>;
    const { key, value } = await db.transaction((tx) => createApiKey(tx, actorOf(request), currentUser(request), body));
    return reply.code(201).send(show.apiKey(key, value));
  });

  app.get('/api/personal_api_keys/:key_id/', { config: { access: readSelf }, schema: { params: KeyParams } }, async (request) => {
    const { key_id } = request.params as Static<typeof KeyParams>;
    return show.apiKey(await getApiKey(db, currentUser(request).id, key_id, request.ctx.apiKey?.id));
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/api/personal_api_keys/:key_id/',
      config: { access: manage },
      schema: { params: KeyParams, body: KeyBody },
      handler: async (request) => {
        const { key_id } = request.params as Static<typeof KeyParams>;
        const body = request.body as Static<typeof KeyBody>;
        const key = await db.transaction((tx) => updateApiKey(tx, actorOf(request), currentUser(request), key_id, body));
        return show.apiKey(key);
      },
    });
  }

  app.delete('/api/personal_api_keys/:key_id/', { config: { access: manage }, schema: { params: KeyParams } }, async (request, reply) => {
    const { key_id } = request.params as Static<typeof KeyParams>;
    await db.transaction((tx) => deleteApiKey(tx, actorOf(request), currentUser(request), key_id));
    return reply.code(204).send();
  });

  app.post('/api/personal_api_keys/:key_id/roll/', { config: { access: manage }, schema: { params: KeyParams } }, async (request) => {
    const { key_id } = request.params as Static<typeof KeyParams>;
    const { key, value } = await db.transaction((tx) => rollApiKey(tx, actorOf(request), currentUser(request), key_id));
    return show.apiKey(key, value);
  });
}
