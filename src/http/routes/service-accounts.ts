import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import {
  createServiceAccount,
  createServiceAccountKey,
  deleteServiceAccount,
  deleteServiceAccountKey,
  findServiceAccount,
  listServiceAccountKeys,
  listServiceAccounts,
  rollServiceAccountKey,
  type ServiceAccountRow,
} from '../../domain/service-accounts.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { KeyFields } from './api-keys.js';
import { OrgParams, routeOrganization } from './organizations.js';

const AccountParams = Type.Object({ organization_id: Type.String(), account_id: Type.String() });
const KeyParams = Type.Object({ organization_id: Type.String(), account_id: Type.String(), key_id: Type.String({ maxLength: 64 }) });
const AccountCreate = Type.Object({ name: Type.String(), level: Type.Optional(Type.Integer()) }, { additionalProperties: false });
const { scoped_organizations: _ignored, ...accountKeyFields } = KeyFields;
const AccountKeyCreate = Type.Object(accountKeyFields, { additionalProperties: false });

function serviceAccount(row: ServiceAccountRow) {
  return {
    id: row.uuid,
    uuid: row.uuid,
    name: row.first_name,
    level: row.level,
    is_service_account: true,
    created_by_id: row.created_by_id,
    created_at: row.date_joined,
  };
}

/** Service accounts are organization membership administration: scope `organization_member`. */
export function serviceAccountRoutes(app: FastifyInstance, { db }: Deps): void {
  const base = '/api/organizations/:organization_id/service_accounts/';
  const read = { access: scoped('organization_member', 'read') };
  const write = { access: scoped('organization_member', 'write') };

  app.get(base, { config: read, schema: { params: OrgParams } }, async (request) => {
    const page = readPage(request);
    const rows = await listServiceAccounts(db, routeOrganization(request).record.id);
    return paginated(request, page, rows.length, rows.slice(page.offset, page.offset + page.limit).map(serviceAccount));
  });

  app.post(base, { config: write, schema: { params: OrgParams, body: AccountCreate } }, async (request, reply) => {
    const body = request.body as Static<typeof AccountCreate>;
    const row = await db.transaction((tx) => createServiceAccount(tx, actorOf(request), routeOrganization(request).record.id, body));
    return reply.code(201).send(serviceAccount(row));
  });

  app.get(`${base}:account_id/`, { config: read, schema: { params: AccountParams } }, async (request) => {
    const { account_id } = request.params as Static<typeof AccountParams>;
    return serviceAccount(await findServiceAccount(db, routeOrganization(request).record.id, account_id));
  });

  app.delete(`${base}:account_id/`, { config: write, schema: { params: AccountParams } }, async (request, reply) => {
    const { account_id } = request.params as Static<typeof AccountParams>;
    await db.transaction((tx) => deleteServiceAccount(tx, actorOf(request), routeOrganization(request).record.id, account_id));
    return reply.code(204).send();
  });

  app.get(`${base}:account_id/keys/`, { config: read, schema: { params: AccountParams } }, async (request) => {
    const { account_id } = request.params as Static<typeof AccountParams>;
    return (await listServiceAccountKeys(db, routeOrganization(request).record.id, account_id)).map((k) => show.apiKey(k));
  });

  app.post(`${base}:account_id/keys/`, { config: write, schema: { params: AccountParams, body: AccountKeyCreate } }, async (request, reply) => {
    const { account_id } = request.params as Static<typeof AccountParams>;
    const body = request.body as Static<typeof AccountKeyCreate>;
    const { key, value } = await db.transaction((tx) =>
      createServiceAccountKey(tx, actorOf(request), routeOrganization(request).record.id, account_id, body),
    );
    return reply.code(201).send(show.apiKey(key, value));
  });

  app.post(`${base}:account_id/keys/:key_id/roll/`, { config: write, schema: { params: KeyParams } }, async (request) => {
    const { account_id, key_id } = request.params as Static<typeof KeyParams>;
    const { key, value } = await db.transaction((tx) =>
      rollServiceAccountKey(tx, actorOf(request), routeOrganization(request).record.id, account_id, key_id),
    );
    return show.apiKey(key, value);
  });

  app.delete(`${base}:account_id/keys/:key_id/`, { config: write, schema: { params: KeyParams } }, async (request, reply) => {
    const { account_id, key_id } = request.params as Static<typeof KeyParams>;
    await db.transaction((tx) => deleteServiceAccountKey(tx, actorOf(request), routeOrganization(request).record.id, account_id, key_id));
    return reply.code(204).send();
  });
}
