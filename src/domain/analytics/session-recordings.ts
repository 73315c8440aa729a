import type { Queryable } from '../../store/database.js';
import { qb, row, rows, sql, type Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, validation } from '../errors.js';
import { parseInstant } from './events.js';
import type { ResourceActor } from '../access-control/resource-access.js';

/** Recording metadata, derived from ingested events that carry `$session_id` (src/domain/analytics/ingestion.ts). */
export type SessionRecordingRecord = Selectable<DB['session_recordings']>;

/** Recordings have no creator: their access comes from the project's rules alone. */
export const asAccessObject = (r: SessionRecordingRecord) => ({ id: r.id, created_by_id: null });

export interface RecordingFilters {
  distinctId?: string;
  dateFrom?: Date;
  dateTo?: Date;
}

export function readRecordingFilters(source: Record<string, unknown>): RecordingFilters {
  const filters: RecordingFilters = {};
  const distinctId = source.distinct_id;
  if (distinctId !== undefined && distinctId !== '') {
    if (typeof distinctId !== 'string') throw validation('Not a valid string.', 'distinct_id');
    if (distinctId.length > 400) throw validation('Ensure this field has no more than 400 characters.', 'distinct_id', 'max_length');
    filters.distinctId = distinctId;
  }
  if (source.date_from !== undefined && source.date_from !== '') filters.dateFrom = parseInstant(source.date_from, 'date_from');
  if (source.date_to !== undefined && source.date_to !== '') filters.dateTo = parseInstant(source.date_to, 'date_to');
  return filters;
}

/** The project's live recordings, newest first. */
export async function listRecordings(q: Queryable, projectId: number, filters: RecordingFilters): Promise<SessionRecordingRecord[]> {
  const distinctId = filters.distinctId ?? null;
  const dateFrom = filters.dateFrom?.toISOString() ?? null;
  const dateTo = filters.dateTo?.toISOString() ?? null;
  return rows(
    q,
    qb
      .selectFrom('session_recordings')
      .selectAll()
      .where('team_id', '=', projectId)
      .where((eb) => eb.not(eb.ref('deleted')))
      .where(sql<boolean>`(${distinctId}::text IS NULL OR distinct_id = ${distinctId})`)
      .where(sql<boolean>`(${dateFrom}::timestamptz IS NULL OR end_time >= ${dateFrom}::timestamptz)`)
      .where(sql<boolean>`(${dateTo}::timestamptz IS NULL OR start_time <= ${dateTo}::timestamptz)`)
      .orderBy('start_time', 'desc')
      .orderBy('id'),
  );
}

export async function getRecording(q: Queryable, projectId: number, id: string, lock = false): Promise<SessionRecordingRecord> {
  const query = qb
    .selectFrom('session_recordings')
    .selectAll()
    .where('team_id', '=', projectId)
    .where('id', '=', id)
    .where((eb) => eb.not(eb.ref('deleted')));
  const recording = await row(q, lock ? query.forNoKeyUpdate() : query);
  if (!recording) throw notFound();
  return recording;
}

/** Deletes a recording (soft, as PostHog does) with its `Replay` activity entry, if the actor may edit it. */
export async function deleteRecording(tx: Queryable, actor: Actor, gate: ResourceActor, organizationId: string, projectId: number, id: string): Promise<void> {
  const recording = await getRecording(tx, projectId, id, true);
  await tx.query('UPDATE session_recordings SET deleted = true WHERE team_id = $1 AND id = $2', [projectId, id]);
  await recordActivity(tx, {
    organizationId,
    teamId: projectId,
    actor,
    scope: 'Replay',
    activity: 'deleted',
    itemId: id,
    detail: {
      name: id,
      changes: [{ type: 'Replay', action: 'deleted', field: 'deleted', before: false, after: true }],
      context: { distinct_id: recording.distinct_id },
    },
  });
}
