/** Project resources (flags, insights, dashboards, recordings, events), roles and access controls. */
export const sql = `
CREATE TABLE roles (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name            varchar(200) NOT NULL,
  created_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roles_org_name ON roles (organization_id, lower(name));

CREATE TABLE role_memberships (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  role_id         uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  organization_member_id uuid NOT NULL REFERENCES organization_memberships(id) ON DELETE CASCADE,
  joined_at       timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (role_id, organization_member_id)
);
CREATE INDEX role_memberships_member ON role_memberships (organization_member_id);

CREATE TABLE access_controls (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  access_level    varchar(32) NOT NULL,
  resource        varchar(32) NOT NULL,
  resource_id     varchar(36),
  organization_member_id uuid REFERENCES organization_memberships(id) ON DELETE CASCADE,
  role_id         uuid REFERENCES roles(id) ON DELETE CASCADE,
  created_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (organization_member_id IS NULL OR role_id IS NULL)
);
CREATE UNIQUE INDEX access_controls_target ON access_controls (
  team_id, resource, COALESCE(resource_id, ''),
  COALESCE(organization_member_id::text, ''), COALESCE(role_id::text, ''));

CREATE TABLE feature_flags (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  key             varchar(400) NOT NULL,
  name            text NOT NULL DEFAULT '',
  filters         jsonb NOT NULL DEFAULT '{"groups": []}',
  active          boolean NOT NULL DEFAULT true,
  deleted         boolean NOT NULL DEFAULT false,
  ensure_experience_continuity boolean NOT NULL DEFAULT false,
  created_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX feature_flags_team_key ON feature_flags (team_id, key) WHERE NOT deleted;

CREATE TABLE insights (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  short_id        varchar(12) NOT NULL UNIQUE,
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name            text NOT NULL DEFAULT '',
  description     text NOT NULL DEFAULT '',
  query           jsonb,
  filters         jsonb NOT NULL DEFAULT '{}',
  deleted         boolean NOT NULL DEFAULT false,
  created_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX insights_team ON insights (team_id) WHERE NOT deleted;

CREATE TABLE dashboards (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name            text NOT NULL DEFAULT '',
  description     text NOT NULL DEFAULT '',
  pinned          boolean NOT NULL DEFAULT false,
  deleted         boolean NOT NULL DEFAULT false,
  created_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dashboards_team ON dashboards (team_id) WHERE NOT deleted;

CREATE TABLE dashboard_tiles (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dashboard_id    integer NOT NULL REFERENCES dashboards(id) ON DELETE CASCADE,
  insight_id      integer REFERENCES insights(id) ON DELETE CASCADE,
  layouts         jsonb NOT NULL DEFAULT '{}',
  color           varchar(400),
  UNIQUE (dashboard_id, insight_id)
);

CREATE TABLE session_recordings (
  id              varchar(200) NOT NULL,
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  distinct_id     text NOT NULL,
  start_time      timestamptz NOT NULL,
  end_time        timestamptz NOT NULL,
  click_count     integer NOT NULL DEFAULT 0,
  keypress_count  integer NOT NULL DEFAULT 0,
  start_url       text,
  deleted         boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (team_id, id)
);

CREATE TABLE events (
  uuid            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  event           varchar(400) NOT NULL,
  distinct_id     varchar(400) NOT NULL,
  properties      jsonb NOT NULL DEFAULT '{}',
  timestamp       timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_team_time ON events (team_id, timestamp DESC);
CREATE INDEX events_team_event_time ON events (team_id, event, timestamp DESC);

CREATE TABLE change_requests (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  action          varchar(64) NOT NULL,
  resource        varchar(32) NOT NULL,
  resource_id     varchar(36) NOT NULL,
  state           varchar(16) NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
  requested_by_id integer REFERENCES users(id) ON DELETE SET NULL,
  decided_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  decided_at      timestamptz,
  reason          text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_requests_team ON change_requests (team_id, state);

-- Which actions need an admin's approval in a project, for everyone without manager access
-- (role_id NULL) or for the members of one role.
CREATE TABLE approval_policies (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  team_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  action          varchar(64) NOT NULL,
  role_id         uuid REFERENCES roles(id) ON DELETE CASCADE,
  created_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX approval_policies_target ON approval_policies (team_id, action, COALESCE(role_id::text, ''));
CREATE UNIQUE INDEX change_requests_one_pending ON change_requests (team_id, action, resource_id) WHERE state = 'pending';
`;
