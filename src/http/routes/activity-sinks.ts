import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { createSink, deleteSink, getSink, listSinks, updateSink, type SinkRecord } from '../../domain/activity/activity-sinks.js';
import { actorOf, type Deps } from '../deps.js';
import { paginated, readPage } from '../pagination.js';
import { Sink, SinkCreate, SinkList, SinkParams, SinkPatch } from '../schemas/activity-sinks.js';
import { NoContent, OrgParams } from '../schemas/common.js';
import { routeOrganization } from './organizations.js';

/** A sink and its delivery state; the secret only when just created. */
function sinkView(sink: SinkRecord, withSecret = false) {
  return {
    id: sink.id,
    url: sink.url,
    description: sink.description,
    enabled: sink.enabled,
    created_at: sink.created_at,
    updated_at: sink.updated_at,
    created_by_id: sink.created_by_id,
    ...(withSecret ? { secret: sink.secret } : {}),
    // Delivery state: the cursor is the chain_seq of the last entry the sink acknowledged.
    last_delivered_seq: sink.last_delivered_seq,
    pending: sink.pending,
    last_success_at: sink.last_success_at,
    last_attempt_at: sink.last_attempt_at,
    last_error: sink.last_error,
    consecutive_failures: sink.consecutive_failures,
    next_retry_at: sink.consecutive_failures > 0 ? sink.next_attempt_at : null,
  };
}

/**
 * HTTPS sinks of an organization's activity log (admins): `/api/organizations/:id/activity_log_sinks/`.
 * Keys need `activity_log:read` to read them and `activity_log:write` to change them.
 */
export function activitySinkRoutes(app: FastifyInstance, { db }: Deps): void {
  const base = '/api/organizations/:organization_id/activity_log_sinks/';
  const one = `${base}:sink_id/`;
  const read = { access: scoped('activity_log', 'read') };
  const write = { access: scoped('activity_log', 'write') };
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(base, { config: read, schema: { params: OrgParams, response: { 200: SinkList } } }, async (request) => {
    const page = readPage(request);
    const sinks = await listSinks(db, actorOf(request), routeOrganization(request).record.id);
    return paginated(
      request,
      page,
      sinks.length,
      sinks.slice(page.offset, page.offset + page.limit).map((s) => sinkView(s)),
    );
  });

  api.post(base, { config: write, schema: { params: OrgParams, body: SinkCreate, response: { 201: Sink } } }, async (request, reply) => {
    const { body } = request;
    const sink = await db.transaction((tx) => createSink(tx, actorOf(request), routeOrganization(request).record.id, body));
    return reply.code(201).send(sinkView(sink, true));
  });

  api.get(one, { config: read, schema: { params: SinkParams, response: { 200: Sink } } }, async (request) => {
    const { sink_id } = request.params;
    return sinkView(await getSink(db, actorOf(request), routeOrganization(request).record.id, sink_id));
  });

  api.patch(one, { config: write, schema: { params: SinkParams, body: SinkPatch, response: { 200: Sink } } }, async (request) => {
    const { sink_id } = request.params;
    const { body } = request;
    return sinkView(await db.transaction((tx) => updateSink(tx, actorOf(request), routeOrganization(request).record.id, sink_id, body)));
  });

  api.delete(one, { config: write, schema: { params: SinkParams, response: { 204: NoContent } } }, async (request, reply) => {
    const { sink_id } = request.params;
    await db.transaction((tx) => deleteSink(tx, actorOf(request), routeOrganization(request).record.id, sink_id));
    return reply.code(204).send();
  });
}
