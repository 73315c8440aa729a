/** PostHog's JSON shapes for events and recordings (posthog/api/event.py, session_recording_api.py). */
import type { EventRecord } from '../../domain/analytics/events.js';
import type { SessionRecordingRecord } from '../../domain/analytics/session-recordings.js';

export function event(e: EventRecord) {
  return {
    id: e.uuid,
    uuid: e.uuid,
    distinct_id: e.distinct_id,
    properties: e.properties,
    event: e.event,
    timestamp: e.timestamp.toISOString(),
    person: null,
    elements: [],
    elements_chain: '',
  };
}

export function sessionRecording(r: SessionRecordingRecord) {
  const duration = Math.max(0, Math.round((r.end_time.getTime() - r.start_time.getTime()) / 1000));
  return {
    id: r.id,
    distinct_id: r.distinct_id,
    viewed: false,
    viewers: [],
    recording_duration: duration,
    active_seconds: null,
    inactive_seconds: null,
    start_time: r.start_time.toISOString(),
    end_time: r.end_time.toISOString(),
    click_count: r.click_count,
    keypress_count: r.keypress_count,
    mouse_activity_count: null,
    console_log_count: null,
    console_warn_count: null,
    console_error_count: null,
    start_url: r.start_url,
    person: null,
    storage: 'object_storage',
    snapshot_source: 'web',
    ongoing: false,
    activity_score: null,
  };
}
