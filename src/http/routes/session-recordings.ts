import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { serving } from '../../access/route-access.js';
import { recordSensitiveRead } from '../../domain/activity/activity-reads.js';
import { visibleTo } from '../../domain/access-control/resource-access.js';
import { asAccessObject, deleteRecording, getRecording, listRecordings, readRecordingFilters } from '../../domain/analytics/session-recordings.js';
import { actorOf, type Deps } from '../deps.js';
import { readPage } from '../pagination.js';
import { resourceActor } from '../resource-actor.js';
import * as show from '../serializers/events.js';
import { placementOf } from './insights.js';
import { NoContent } from '../schemas/common.js';
import { ProjectParams } from '../schemas/projects.js';
import { RecordingParams, RecordingQuery, SessionRecording, SessionRecordingList } from '../schemas/session-recordings.js';

/**
 * Session recording metadata under /api/projects/:project_id/session_recordings/: PostHog's list
 * shape `{results, has_next}`, retrieve, and DELETE (a soft delete with its `Replay` entry).
 */
export function sessionRecordingRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/api/projects/:project_id/session_recordings/';
  const one = `${base}:recording_id/`;

  api.get(
    base,
    {
      config: { access: serving('session_recording', 'read', { resource: 'session_recording' }) },
      schema: { params: ProjectParams, querystring: RecordingQuery, response: { 200: SessionRecordingList } },
    },
    async (request) => {
      const gate = await resourceActor(db, request);
      const filters = readRecordingFilters(request.query);
      const page = readPage(request);
      const stored = await listRecordings(db, placementOf(request).projectId, filters);
      const visible = await visibleTo(
        gate,
        'session_recording',
        stored.map((r) => ({ ...asAccessObject(r), record: r })),
      );
      const slice = visible.slice(page.offset, page.offset + page.limit);
      const { organizationId, projectId } = placementOf(request);
      await recordSensitiveRead(db, {
        organizationId,
        projectId,
        actor: actorOf(request),
        scope: 'Replay',
        activity: 'listed',
        itemId: null,
        name: null,
        context: { filters, recordings: slice.map((v) => v.record.id) },
      });
      return { results: slice.map((v) => show.sessionRecording(v.record)), has_next: page.offset + page.limit < visible.length, version: 4 };
    },
  );

  api.get(
    one,
    {
      config: { access: serving('session_recording', 'read', { resource: 'session_recording', object: 'recording_id' }) },
      schema: { params: RecordingParams, response: { 200: SessionRecording } },
    },
    async (request) => {
      const { recording_id } = request.params;
      const recording = await getRecording(db, placementOf(request).projectId, recording_id);
      const { organizationId, projectId } = placementOf(request);
      await recordSensitiveRead(db, {
        organizationId,
        projectId,
        actor: actorOf(request),
        scope: 'Replay',
        activity: 'viewed',
        itemId: recording.id,
        name: recording.id,
        context: { distinct_id: recording.distinct_id },
      });
      return show.sessionRecording(recording);
    },
  );

  api.delete(
    one,
    {
      config: { access: serving('session_recording', 'write', { resource: 'session_recording', object: 'recording_id' }) },
      schema: { params: RecordingParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      const { recording_id } = request.params;
      const { organizationId, projectId } = placementOf(request);
      await db.transaction(async (tx) => deleteRecording(tx, actorOf(request), await resourceActor(tx, request), organizationId, projectId, recording_id));
      return reply.code(204).send();
    },
  );
}
