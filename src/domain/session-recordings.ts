import type { Queryable } from '../store/database.js';
import { recordActivity } from './activity.js';
import type { Actor } from './actor.js';
import { notFound, validation } from './errors.js';
import { parseInstant } from './events.js';
import type { ResourceActor } from './resource-access.js';

/** Recording metadata, derived from ingested events that carry `$session_id` (src/domain/ingestion.ts). */
export interface SessionRecordingRecord {
  id: string;
  team_id: number;
  distinct_id: string;
  start_time: Date;
  end_time: Date;
  click_count: number;
  keypress_count: number;
  start_url: string | null;
  deleted: boolean;
  created_at: Date;
}

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
  return q.query<SessionRecordingRecord>(
    `SELECT * FROM session_recordings
      WHERE team_id = $1 AND NOT deleted
        AND ($2::text IS NULL OR distinct_id = $2)
        AND ($3::timestamptz IS NULL OR end_time >= $3::timestamptz)
        AND ($4::timestamptz IS NULL OR start_time <= $4::timestamptz)
      ORDER BY start_time DESC, id`,
    [projectId, filters.distinctId ?? null, filters.dateFrom?.toISOString() ?? null, filters.dateTo?.toISOString() ?? null],
  );
}

export async function getRecording(q: Queryable, projectId: number, id: string, lock = false): Promise<SessionRecordingRecord> {
  const [row] = await q.query<SessionRecordingRecord>(
    `SELECT * FROM session_recordings WHERE team_id = $1 AND id = $2 AND NOT deleted${lock ? ' FOR NO KEY UPDATE' : ''}`,
    [projectId, id],
  );
  if (!row) throw notFound();
  return row;
}

/** Deletes a recording (soft, as PostHog does) with its `Replay` activity entry, if the actor may edit it. */
export async function deleteRecording(
  tx: Queryable,
  actor: Actor,
  gate: ResourceActor,
  organizationId: string,
  projectId: number,
  id: string,
): Promise<void> {
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
