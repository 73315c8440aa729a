/** Organizations, users, memberships, invites, projects and project access, sessions, keys, activity. */
export const sql = `
CREATE TABLE users (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid            uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  distinct_id     text NOT NULL UNIQUE,
  email           text NOT NULL,
  first_name      text NOT NULL DEFAULT '',
  last_name       text NOT NULL DEFAULT '',
  password_hash   text,
  is_active       boolean NOT NULL DEFAULT true,
  is_staff        boolean NOT NULL DEFAULT false,
  current_organization_id uuid,
  current_project_id integer,
  last_login      timestamptz,
  date_joined     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE organizations (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name            text NOT NULL,
  slug            text NOT NULL UNIQUE,
  members_can_invite boolean NOT NULL DEFAULT true,
  members_can_use_personal_api_keys boolean NOT NULL DEFAULT true,
  enforce_2fa     boolean,
  is_member_join_email_enabled boolean NOT NULL DEFAULT true,
  allow_publicly_shared_resources boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organization_memberships (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  level           smallint NOT NULL CHECK (level IN (1, 8, 15)),
  joined_at       timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, user_id)
);
CREATE INDEX organization_memberships_user ON organization_memberships (user_id);

CREATE TABLE organization_invites (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  target_email    text NOT NULL,
  first_name      text NOT NULL DEFAULT '',
  level           smallint NOT NULL CHECK (level IN (1, 8, 15)),
  message         text,
  created_by_id   integer REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);
CREATE INDEX organization_invites_org ON organization_invites (organization_id);

CREATE TABLE projects (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid            uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name            text NOT NULL,
  api_token       text NOT NULL UNIQUE,
  access_control  boolean NOT NULL DEFAULT false,
  timezone        text NOT NULL DEFAULT 'UTC',
  is_demo         boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_org ON projects (organization_id);

CREATE TABLE explicit_project_memberships (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id      integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  parent_membership_id uuid NOT NULL REFERENCES organization_memberships(id) ON DELETE CASCADE,
  level           smallint NOT NULL CHECK (level IN (1, 8)),
  joined_at       timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, parent_membership_id)
);
CREATE INDEX explicit_project_memberships_parent ON explicit_project_memberships (parent_membership_id);

CREATE TABLE sessions (
  id_hash         text PRIMARY KEY,
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE personal_api_keys (
  id              text PRIMARY KEY,
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label           text NOT NULL,
  mask_value      text NOT NULL,
  secure_value    text NOT NULL UNIQUE,
  scopes          text[] NOT NULL,
  scoped_teams    integer[],
  scoped_organizations text[],
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz,
  last_rolled_at  timestamptz,
  expires_at      timestamptz
);
CREATE INDEX personal_api_keys_user ON personal_api_keys (user_id);

CREATE TABLE activity_log (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  organization_id uuid,
  team_id         integer,
  user_id         integer,
  was_impersonated boolean NOT NULL DEFAULT false,
  is_system       boolean NOT NULL DEFAULT false,
  activity        varchar(79) NOT NULL,
  scope           varchar(79) NOT NULL,
  item_id         varchar(72),
  detail          jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (organization_id IS NOT NULL OR team_id IS NOT NULL)
);
CREATE INDEX activity_log_org ON activity_log (organization_id, seq DESC);
CREATE INDEX activity_log_team ON activity_log (team_id, seq DESC);

CREATE TABLE instance_settings (
  key             text PRIMARY KEY,
  value           jsonb NOT NULL
);
`;
