import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
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
  updateServiceAccountKey,
  type ServiceAccountRow,
} from '../../domain/organizations/service-accounts.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import * as show from '../serializers.js';
import { NoContent } from '../schemas/common.js';
import { OrgParams } from '../schemas/organizations.js';
import {
  AccountCreate,
  AccountKey,
  AccountKeyCreate,
  AccountKeyList,
  AccountKeyParams,
  AccountKeyPatch,
  AccountParams,
  ServiceAccount,
  ServiceAccountList,
} from '../schemas/service-accounts.js';
import { routeOrganization } from './organizations.js';

function serviceAccount(row: ServiceAccountRow): ServiceAccount {
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
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = { access: scoped('organization_member', 'read') };
  const write = { access: scoped('organization_member', 'write') };

  api.get(base, { config: read, schema: { params: OrgParams, response: { 200: ServiceAccountList } } }, async (request) => {
    const page = readPage(request);
    const rows = await listServiceAccounts(db, routeOrganization(request).record.id);
    return paginated(request, page, rows.length, rows.slice(page.offset, page.offset + page.limit).map(serviceAccount));
  });

  api.post(base, { config: write, schema: { params: OrgParams, body: AccountCreate, response: { 201: ServiceAccount } } }, async (request, reply) => {
    const body = request.body;
    const row = await db.transaction((tx) => createServiceAccount(tx, actorOf(request), routeOrganization(request).record.id, body));
    return reply.code(201).send(serviceAccount(row));
  });

  api.get(`${base}:account_id/`, { config: read, schema: { params: AccountParams, response: { 200: ServiceAccount } } }, async (request) => {
    const { account_id } = request.params;
    return serviceAccount(await findServiceAccount(db, routeOrganization(request).record.id, account_id));
  });

  api.delete(`${base}:account_id/`, { config: write, schema: { params: AccountParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { account_id } = request.params;
    await db.transaction((tx) => deleteServiceAccount(tx, actorOf(request), routeOrganization(request).record.id, account_id));
    return reply.code(204).send();
  });

  api.get(`${base}:account_id/keys/`, { config: read, schema: { params: AccountParams, response: { 200: AccountKeyList } } }, async (request) => {
    const { account_id } = request.params;
    return (await listServiceAccountKeys(db, routeOrganization(request).record.id, account_id)).map((k) => show.apiKey(k));
  });

  api.post(
    `${base}:account_id/keys/`,
    { config: write, schema: { params: AccountParams, body: AccountKeyCreate, response: { 201: AccountKey } } },
    async (request, reply) => {
      const { account_id } = request.params;
      const body = request.body;
      const { key, value } = await db.transaction((tx) =>
        createServiceAccountKey(tx, actorOf(request), routeOrganization(request).record.id, account_id, body),
      );
      return reply.code(201).send(show.apiKey(key, value));
    },
  );

  api.patch(
    `${base}:account_id/keys/:key_id/`,
    { config: write, schema: { params: AccountKeyParams, body: AccountKeyPatch, response: { 200: AccountKey } } },
    async (request) => {
      const { account_id, key_id } = request.params;
      const body = request.body;
      const key = await db.transaction((tx) => updateServiceAccountKey(tx, actorOf(request), routeOrganization(request).record.id, account_id, key_id, body));
      return show.apiKey(key);
    },
  );

  api.post(`${base}:account_id/keys/:key_id/roll/`, { config: write, schema: { params: AccountKeyParams, response: { 200: AccountKey } } }, async (request) => {
    const { account_id, key_id } = request.params;
    const { key, value } = await db.transaction((tx) => rollServiceAccountKey(tx, actorOf(request), routeOrganization(request).record.id, account_id, key_id));
    return show.apiKey(key, value);
  });

  api.delete(
    `${base}:account_id/keys/:key_id/`,
    { config: write, schema: { params: AccountKeyParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { account_id, key_id } = request.params;
      await db.transaction((tx) => deleteServiceAccountKey(tx, actorOf(request), routeOrganization(request).record.id, account_id, key_id));
      return reply.code(204).send();
    },
  );
}
