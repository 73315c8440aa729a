/** Request and response shapes of session recording metadata (PostHog's session_recording_api.py). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './common.js';

export const RecordingParams = Type.Object({ project_id: Type.String(), recording_id: Type.String() });
export type RecordingParams = Static<typeof RecordingParams>;

/** The list's filters (read and checked by the domain) and its paging. */
export const RecordingQuery = Type.Object(
  {
    distinct_id: Type.Optional(Type.Unknown()),
    date_from: Type.Optional(Type.Unknown()),
    date_to: Type.Optional(Type.Unknown()),
    limit: Type.Optional(Type.Unknown()),
    offset: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type RecordingQuery = Static<typeof RecordingQuery>;

export const SessionRecording = Type.Object({
  id: Type.String(),
  distinct_id: Type.String(),
  viewed: Type.Boolean(),
  viewers: Type.Array(Type.Unknown()),
  recording_duration: Type.Integer(),
  active_seconds: Type.Null(),
  inactive_seconds: Type.Null(),
  start_time: Type.String(),
  end_time: Type.String(),
  click_count: Type.Integer(),
  keypress_count: Type.Integer(),
  mouse_activity_count: Type.Null(),
  console_log_count: Type.Null(),
  console_warn_count: Type.Null(),
  console_error_count: Type.Null(),
  start_url: Nullable(Type.String()),
  person: Type.Null(),
  storage: Type.String(),
  snapshot_source: Type.String(),
  ongoing: Type.Boolean(),
  activity_score: Type.Null(),
});
export type SessionRecording = Static<typeof SessionRecording>;

/** PostHog's list shape: `{results, has_next}` (and the API's version). */
export const SessionRecordingList = Type.Object({ results: Type.Array(SessionRecording), has_next: Type.Boolean(), version: Type.Integer() });
export type SessionRecordingList = Static<typeof SessionRecordingList>;
