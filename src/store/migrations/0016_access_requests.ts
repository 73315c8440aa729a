/**
 * Access requests (issue 25, part 2): a member refused a project or a resource asks for a level, for
 * a duration, with a reason; someone who could grant it (the grant ceiling) approves it (possibly for
 * less) or denies it. The request keeps what was asked and what was decided; the grant itself is an
 * access-control row (src/domain/access-control/access-request-grant.ts), so nothing here is read
 * by access decisions and no cache trigger is needed.
 */
export const sql = `
CREATE TABLE access_requests (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id        uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  team_id                integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  requested_by_id        integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  organization_member_id uuid NOT NULL REFERENCES organization_memberships_stored(id) ON DELETE CASCADE,
  resource               varchar(64) NOT NULL,
  resource_id            varchar(200),
  access_level           varchar(16) NOT NULL,
  -- One of the two: a duration counted from approval, or a fixed end.
  duration_hours         integer CHECK (duration_hours > 0),
  requested_expires_at   timestamptz,
  reason                 text NOT NULL,
  state                  varchar(16) NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'denied')),
  decided_by_id          integer REFERENCES users(id) ON DELETE SET NULL,
  decided_at             timestamptz,
  decision_reason        text,
  granted_access_level   varchar(16),
  granted_expires_at     timestamptz,
  access_control_id      uuid REFERENCES access_controls_stored(id) ON DELETE SET NULL,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CHECK ((duration_hours IS NULL) <> (requested_expires_at IS NULL))
);
-- One pending request per person and target: asking again waits for the first to be decided.
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (team_id, requested_by_id, resource, COALESCE(resource_id, ''))
  WHERE state = 'pending';
CREATE INDEX access_requests_pending ON access_requests (organization_id, created_at) WHERE state = 'pending';
CREATE INDEX access_requests_team ON access_requests (team_id, created_at);
`;
