import { gateFlagChange } from '../../domain/access-control/change-requests.js';
import { approvalRequired } from '../serializers/change-requests.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { serving } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import {
  createFeatureFlag,
  deleteFeatureFlag,
  listFeatureFlagPage,
  parseFlagId,
  requireFeatureFlag,
  updateFeatureFlag,
  type FeatureFlagRecord,
  type FlagListOptions,
} from '../../domain/analytics/feature-flags.js';
import type { UserRecord } from '../../domain/records.js';
import { seesEveryObject, visibleTo } from '../../domain/access-control/resource-access.js';
import { findUserById } from '../../domain/identity/users.js';
import type { Queryable } from '../../store/database.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import { JSON_TYPE, jsonFor, preserialized } from '../serialized.js';
import { resourceActor } from '../resource-actor.js';
import * as show from '../serializers/feature-flags.js';
import { NoContent, ProjectParams } from '../schemas/common.js';
import { FeatureFlag, FeatureFlagList, FlagCreate, FlagListQuery, FlagParams, FlagPatch, ApprovalRequired } from '../schemas/feature-flags.js';

const RESOURCE = 'feature_flag';
const list = { access: serving(RESOURCE, 'read', { resource: RESOURCE }) };
const create = { access: serving(RESOURCE, 'write', { resource: RESOURCE }) };
const read = { access: serving(RESOURCE, 'read', { resource: RESOURCE, object: 'flag_id' }) };
const write = { access: serving(RESOURCE, 'write', { resource: RESOURCE, object: 'flag_id' }) };

function listOptions(query: Record<string, unknown>): FlagListOptions {
  const options: FlagListOptions = {};
  if (query.search !== undefined) {
    if (typeof query.search !== 'string' || query.search.length > 400) throw validation('Not a valid string.', 'search');
    if (query.search) options.search = query.search;
  }
  if (query.active !== undefined) {
    if (query.active !== 'true' && query.active !== 'false') throw validation('Must be a valid boolean.', 'active');
    options.active = query.active === 'true';
  }
  return options;
}

async function creators(q: Queryable, flags: readonly FeatureFlagRecord[]): Promise<Map<number, UserRecord>> {
  const ids = [...new Set(flags.map((f) => f.created_by_id).filter((id): id is number => id !== null))];
  const users = await Promise.all(ids.map((id) => findUserById(q, id)));
  return new Map(users.filter((u): u is UserRecord => u !== undefined).map((u) => [u.id, u]));
}

async function shown(q: Queryable, flags: readonly FeatureFlagRecord[]) {
  const byId = await creators(q, flags);
  return flags.map((f) => show.featureFlag(f, f.created_by_id === null ? null : (byId.get(f.created_by_id) ?? null)));
}

const flagIdOf = (params: FlagParams) => parseFlagId(params.flag_id);

/** Feature flags CRUD under /api/projects/:project_id/feature_flags/; each route declares the object gate it passes. */
export function featureFlagRoutes(app: FastifyInstance, { db }: Deps): void {
  const base = '/api/projects/:project_id/feature_flags/';
  const item = `${base}:flag_id/`;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(base, { config: list, schema: { params: ProjectParams, querystring: FlagListQuery, response: { 200: FeatureFlagList } } }, async (request) => {
    const page = readPage(request);
    const options = listOptions(request.query);
    const actor = await resourceActor(db, request);
    const everything = seesEveryObject(actor, RESOURCE);
    const { count, results } = await listFeatureFlagPage(
      db,
      actor.projectId,
      options,
      page,
      everything ? undefined : async (flags) => visibleTo(actor, RESOURCE, flags),
    );
    return paginated(request, page, count, await shown(db, results));
  });

  api.post(base, { config: create, schema: { params: ProjectParams, body: FlagCreate, response: { 201: FeatureFlag } } }, async (request, reply) => {
    const { body } = request;
    const actor = await resourceActor(db, request);
    const flag = await db.transaction(async (tx) => createFeatureFlag(tx, actorOf(request), actor.projectId, body));
    const [result] = await shown(db, [flag]);
    return reply.code(201).send(result!);
  });

  api.get(item, { config: read, schema: { params: FlagParams, response: { 200: FeatureFlag } } }, async (request, reply) => {
    const id = flagIdOf(request.params);
    const actor = await resourceActor(db, request);
    const flag = await requireFeatureFlag(db, actor.projectId, id);
    const creator = flag.created_by_id === null ? null : ((await findUserById(db, flag.created_by_id)) ?? null);
    return reply.type(JSON_TYPE).send(preserialized<FeatureFlag>(jsonFor(flag, creator, () => show.featureFlag(flag, creator))));
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    api.route({
      method,
      url: item,
      config: write,
      schema: { params: FlagParams, body: FlagPatch, response: { 200: FeatureFlag, 409: ApprovalRequired } },
      handler: async (request, reply) => {
        const id = flagIdOf(request.params);
        const { deleted, ...patch } = request.body;
        const actor = await resourceActor(db, request);
        const result = await db.transaction(async (tx) => {
          // Where an approval policy covers the change, it is held as a change request (src/domain/access-control/change-requests.ts).
          const gate = await gateFlagChange(tx, actorOf(request), actor, await requireFeatureFlag(tx, actor.projectId, id, true), {
            patch,
            deleted: deleted === true,
          });
          if (gate.kind !== 'pass') return { flag: null, gate };
          const updated = await updateFeatureFlag(tx, actorOf(request), actor.projectId, id, patch);
          if (deleted !== true) return { flag: updated, gate: null };
          await deleteFeatureFlag(tx, actorOf(request), actor.projectId, id);
          return { flag: { ...updated, deleted: true }, gate: null };
        });
        if (result.gate) return reply.code(409).send(await approvalRequired(db, actor, result.gate));
        return (await shown(db, [result.flag!]))[0];
      },
    });
  }

  api.delete(item, { config: write, schema: { params: FlagParams, response: { 409: ApprovalRequired, 204: NoContent } } }, async (request, reply) => {
    const id = flagIdOf(request.params);
    const actor = await resourceActor(db, request);
    const gate = await db.transaction(async (tx) => {
      const outcome = await gateFlagChange(tx, actorOf(request), actor, await requireFeatureFlag(tx, actor.projectId, id, true), { patch: {}, deleted: true });
      if (outcome.kind === 'pass') await deleteFeatureFlag(tx, actorOf(request), actor.projectId, id);
      return outcome;
    });
    if (gate.kind !== 'pass') return reply.code(409).send(await approvalRequired(db, actor, gate));
    return reply.code(204).send();
  });
}
