/**
 * Event ingestion and project data: events are unique per project (a client-chosen uuid in one
 * project never collides with, or is swallowed by, another project's), and the indexes the events
 * list, its filters and the recordings list read.
 */
export const sql = `
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (team_id, uuid);
DROP INDEX events_team_time;
CREATE INDEX events_team_time_uuid ON events (team_id, timestamp DESC, uuid DESC);
CREATE INDEX events_team_distinct_time ON events (team_id, distinct_id, timestamp DESC);

CREATE INDEX session_recordings_team_start ON session_recordings (team_id, start_time DESC);
CREATE INDEX dashboard_tiles_insight ON dashboard_tiles (insight_id);
`;
