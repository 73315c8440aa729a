/**
 * Tamper evidence for the activity log: the entries of each organization form a hash chain. Rows
 * are written unchained (chain_seq, prev_hash and hash NULL) by the change's own transaction and
 * chained after commit (src/domain/activity/activity-chain.ts), so writers never wait on a chain lock.
 */
export const sql = `
ALTER TABLE activity_log ADD COLUMN chain_seq bigint;
ALTER TABLE activity_log ADD COLUMN prev_hash text;
ALTER TABLE activity_log ADD COLUMN hash text;
ALTER TABLE activity_log ADD CONSTRAINT activity_log_org_chain_seq UNIQUE (organization_id, chain_seq);
CREATE INDEX activity_log_unchained ON activity_log (organization_id, seq) WHERE hash IS NULL AND organization_id IS NOT NULL;

CREATE TABLE activity_chain_heads (
  organization_id uuid PRIMARY KEY,
  chain_seq       bigint NOT NULL,
  hash            text NOT NULL
);

CREATE TABLE activity_chain_checkpoints (
  organization_id uuid NOT NULL,
  up_to_chain_seq bigint NOT NULL,
  hash_at         text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  signature       text,
  PRIMARY KEY (organization_id, up_to_chain_seq)
);
`;
