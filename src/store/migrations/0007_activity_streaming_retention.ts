/**
 * Activity log streaming (HTTPS sinks), retention and signed checkpoints, optional read events.
 *
 * - activity_log_sinks: an organization's HTTPS receivers with their delivery cursor
 *   (last_delivered_seq = the chain_seq of the last entry acknowledged with a 2xx) and state.
 *   A node claims a due sink for `lease_until` (FOR UPDATE SKIP LOCKED), so several nodes share the work.
 * - organizations.activity_log_retention_days (null: keep everything) and log_sensitive_reads.
 * - activity_chain_checkpoints (0005) receives the signed checkpoints written before pruning.
 */
export const sql = `
ALTER TABLE organizations ADD COLUMN activity_log_retention_days integer;
ALTER TABLE organizations ADD COLUMN log_sensitive_reads boolean NOT NULL DEFAULT false;

CREATE TABLE activity_log_sinks (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id      uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  url                  text NOT NULL,
  description          text NOT NULL DEFAULT '',
  enabled              boolean NOT NULL DEFAULT true,
  secret               text NOT NULL,
  created_by_id        integer,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  last_delivered_seq   bigint NOT NULL DEFAULT 0,
  last_success_at      timestamptz,
  last_attempt_at      timestamptz,
  last_error           text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  next_attempt_at      timestamptz NOT NULL DEFAULT now(),
  lease_until          timestamptz,
  lease_token          text
);
CREATE INDEX activity_log_sinks_org ON activity_log_sinks (organization_id, created_at);
CREATE INDEX activity_log_sinks_due ON activity_log_sinks (next_attempt_at) WHERE enabled;

-- Filtered pages over a large log (bench/activity-log.mjs): one object's history, one person's actions.
CREATE INDEX activity_log_org_item ON activity_log (organization_id, item_id, seq DESC) WHERE item_id IS NOT NULL;
CREATE INDEX activity_log_team_item ON activity_log (team_id, item_id, seq DESC) WHERE item_id IS NOT NULL;
CREATE INDEX activity_log_org_user ON activity_log (organization_id, user_id, seq DESC) WHERE user_id IS NOT NULL;

`;
