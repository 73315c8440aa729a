/**
 * Approvals for feature-flag changes (issue 24), in PostHog's model (posthog/approvals): a policy
 * per action key (`feature_flag.enable`, `.disable`, `.update`, and Warden's `.delete`) for a project
 * or, with no team, for the whole organization, with conditions, named approvers and a quorum, a
 * self-approval rule, bypasses and an expiry; a change request holds the change itself (`intent`,
 * with the flag's version at request time for stale detection) and collects one vote per approver.
 * The first version's policies (flag deletion, for everyone without manager access or for one role)
 * keep working: they become `feature_flag.delete` policies whose object managers bypass them.
 */
export const sql = `
ALTER TABLE approval_policies
  ADD COLUMN organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE,
  ADD COLUMN conditions jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN approver_config jsonb NOT NULL DEFAULT '{"quorum": 1, "users": [], "roles": []}',
  ADD COLUMN allow_self_approve boolean NOT NULL DEFAULT false,
  ADD COLUMN bypass_org_membership_levels integer[] NOT NULL DEFAULT '{}',
  ADD COLUMN bypass_roles uuid[] NOT NULL DEFAULT '{}',
  -- Warden: people with manager access on the flag act without approval (the first version's rule)
  ADD COLUMN bypass_object_managers boolean NOT NULL DEFAULT false,
  ADD COLUMN expires_after_seconds integer NOT NULL DEFAULT 1209600 CHECK (expires_after_seconds > 0),
  ADD COLUMN enabled boolean NOT NULL DEFAULT true,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE approval_policies ALTER COLUMN team_id DROP NOT NULL;
UPDATE approval_policies ap SET organization_id = p.organization_id FROM projects p WHERE p.id = ap.team_id;
UPDATE approval_policies SET action = 'feature_flag.delete', bypass_object_managers = true WHERE action = 'delete_feature_flag';
ALTER TABLE approval_policies ALTER COLUMN organization_id SET NOT NULL;
CREATE UNIQUE INDEX approval_policies_org_target ON approval_policies (organization_id, action, COALESCE(role_id::text, '')) WHERE team_id IS NULL;

ALTER TABLE feature_flags ADD COLUMN tags text[] NOT NULL DEFAULT '{}';

ALTER TABLE change_requests DROP CONSTRAINT IF EXISTS change_requests_state_check;
DROP INDEX IF EXISTS change_requests_one_pending;
UPDATE change_requests SET action = 'feature_flag.delete' WHERE action = 'delete_feature_flag';
ALTER TABLE change_requests
  ADD COLUMN organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE,
  ADD COLUMN policy_id uuid REFERENCES approval_policies(id) ON DELETE SET NULL,
  ADD COLUMN intent jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN intent_display jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN policy_snapshot jsonb NOT NULL DEFAULT '{"quorum": 1, "users": [], "roles": [], "allow_self_approve": false}',
  ADD COLUMN validation_status varchar(16) NOT NULL DEFAULT 'valid' CHECK (validation_status IN ('valid', 'invalid', 'expired', 'stale')),
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN applied_at timestamptz,
  ADD COLUMN applied_by_id integer REFERENCES users(id) ON DELETE SET NULL,
  ADD COLUMN apply_error text NOT NULL DEFAULT '',
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE change_requests c SET organization_id = p.organization_id FROM projects p WHERE p.id = c.team_id;
-- The first version's "approved" meant performed: PostHog calls that "applied".
UPDATE change_requests SET state = 'applied', applied_at = decided_at, applied_by_id = decided_by_id WHERE state = 'approved';
-- The first version's requests held a deletion only, and no version of the flag.
UPDATE change_requests SET intent = jsonb_build_object('flag_id', resource_id::int, 'flag_key', '', 'full_request_data', '{"deleted": true}'::jsonb, 'preconditions', '{}'::jsonb)
  WHERE action = 'feature_flag.delete' AND resource_id ~ '^[0-9]{1,9}$';
UPDATE change_requests SET expires_at = CASE WHEN state = 'pending' THEN now() ELSE created_at END + interval '14 days';
ALTER TABLE change_requests
  ALTER COLUMN organization_id SET NOT NULL,
  ALTER COLUMN expires_at SET NOT NULL,
  ADD CONSTRAINT change_requests_state_check CHECK (state IN ('pending', 'approved', 'applied', 'rejected', 'expired', 'failed'));
-- One open request per object: a second gated change waits for the first to be decided.
CREATE UNIQUE INDEX change_requests_one_open ON change_requests (team_id, resource, resource_id) WHERE state IN ('pending', 'approved');
CREATE INDEX change_requests_expiry ON change_requests (expires_at) WHERE state = 'pending';

CREATE TABLE change_request_approvals (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  change_request_id uuid NOT NULL REFERENCES change_requests(id) ON DELETE CASCADE,
  user_id           integer REFERENCES users(id) ON DELETE SET NULL,
  decision          varchar(16) NOT NULL CHECK (decision IN ('approved', 'rejected')),
  reason            text NOT NULL DEFAULT '',
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (change_request_id, user_id)
);
INSERT INTO change_request_approvals (change_request_id, user_id, decision, reason, created_at)
  SELECT id, decided_by_id, CASE WHEN state = 'rejected' THEN 'rejected' ELSE 'approved' END, COALESCE(reason, ''), decided_at
    FROM change_requests WHERE decided_by_id IS NOT NULL;
`;
