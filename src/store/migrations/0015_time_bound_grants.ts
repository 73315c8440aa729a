/**
 * Time-bound grants (issue 25, part 1; docs/time-bound-access.md). Every grant may carry `expires_at`
 * and a `reason`, and ends on its own at expiry on every node, whether or not the sweeper has run:
 * each grant table becomes `<name>_stored`, and a view under the table's old name shows only what is
 * live. Every read of a grant (the domain's, the matrix's, an operator's in psql) goes through the
 * view: this is the ONE place per grant kind where `expires_at IS NULL OR expires_at > now()` is said.
 * The views of the three row grants are plain (automatically updatable: writes pass through).
 *
 * An organization level raise keeps the lasting level in `level` and the raise beside it
 * (`raised_level`, `level_expires_at`, `level_reason`): the view's `level` is the raised one while the
 * raise lasts, the lasting one after, with no write needed. Writes of `level` through the view set
 * the lasting level and end any raise (a level set the ordinary way is permanent); a raise is written
 * to the stored table by the domain (src/domain/organizations/level-raises.ts).
 *
 * The migration 0010/0013 triggers stay on the stored tables (renaming keeps them), so every change
 * still names its cache tags.
 */
const ROW_GRANTS = ['explicit_project_memberships', 'role_memberships', 'access_controls'] as const;

/** The tables written directly by the sweeper and the raise (their writes invalidate cached facts). */
export const WATCHED_BY_TIME_BOUND_GRANTS: ReadonlySet<string> = new Set([...ROW_GRANTS, 'organization_memberships'].map((t) => `${t}_stored`));

const rowGrants = ROW_GRANTS.map(
  (t) => `
ALTER TABLE ${t} RENAME TO ${t}_stored;
ALTER TABLE ${t}_stored ADD COLUMN expires_at timestamptz, ADD COLUMN reason text;
CREATE INDEX ${t}_expiry ON ${t}_stored (expires_at) WHERE expires_at IS NOT NULL;
CREATE VIEW ${t} AS SELECT * FROM ${t}_stored WHERE expires_at IS NULL OR expires_at > now();`,
).join('\n');

export const sql = `
${rowGrants}

ALTER TABLE organization_memberships RENAME TO organization_memberships_stored;
ALTER TABLE organization_memberships_stored
  ADD COLUMN raised_level smallint CHECK (raised_level IN (8, 15)),
  ADD COLUMN level_expires_at timestamptz,
  ADD COLUMN level_reason text,
  ADD CONSTRAINT organization_memberships_raise CHECK ((raised_level IS NULL) = (level_expires_at IS NULL) AND (raised_level IS NULL OR raised_level > level));
CREATE INDEX organization_memberships_expiry ON organization_memberships_stored (level_expires_at) WHERE level_expires_at IS NOT NULL;
CREATE VIEW organization_memberships AS
  SELECT id, organization_id, user_id,
         CASE WHEN level_expires_at > now() THEN raised_level ELSE level END AS level,
         joined_at, updated_at,
         CASE WHEN level_expires_at > now() THEN level_expires_at END AS level_expires_at,
         CASE WHEN raised_level IS NULL OR level_expires_at > now() THEN level_reason END AS level_reason,
         CASE WHEN level_expires_at > now() THEN level END AS level_after_expiry
    FROM organization_memberships_stored;

CREATE FUNCTION organization_memberships_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r organization_memberships_stored;
BEGIN
  INSERT INTO organization_memberships_stored (id, organization_id, user_id, level, joined_at, updated_at, level_reason)
    VALUES (COALESCE(NEW.id, gen_random_uuid()), NEW.organization_id, NEW.user_id, NEW.level,
            COALESCE(NEW.joined_at, now()), COALESCE(NEW.updated_at, now()), NEW.level_reason)
    RETURNING * INTO r;
  NEW.id := r.id;
  NEW.joined_at := r.joined_at;
  NEW.updated_at := r.updated_at;
  NEW.level_expires_at := NULL;
  NEW.level_after_expiry := NULL;
  RETURN NEW;
END $$;
CREATE TRIGGER organization_memberships_insert INSTEAD OF INSERT ON organization_memberships
  FOR EACH ROW EXECUTE FUNCTION organization_memberships_insert();

CREATE FUNCTION organization_memberships_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.level IS DISTINCT FROM OLD.level THEN
    -- A level set the ordinary way is lasting: it replaces any raise (and the raise's reason).
    UPDATE organization_memberships_stored
       SET level = NEW.level, raised_level = NULL, level_expires_at = NULL,
           level_reason = CASE WHEN NEW.level_reason IS DISTINCT FROM OLD.level_reason THEN NEW.level_reason END,
           organization_id = NEW.organization_id, user_id = NEW.user_id, joined_at = NEW.joined_at, updated_at = NEW.updated_at
     WHERE id = OLD.id;
    NEW.level_expires_at := NULL;
    NEW.level_after_expiry := NULL;
    NEW.level_reason := CASE WHEN NEW.level_reason IS DISTINCT FROM OLD.level_reason THEN NEW.level_reason END;
  ELSE
    UPDATE organization_memberships_stored
       SET organization_id = NEW.organization_id, user_id = NEW.user_id, joined_at = NEW.joined_at,
           updated_at = NEW.updated_at, level_reason = NEW.level_reason
     WHERE id = OLD.id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER organization_memberships_update INSTEAD OF UPDATE ON organization_memberships
  FOR EACH ROW EXECUTE FUNCTION organization_memberships_update();

-- A production project, and an organization's cap on how long a grant touching one may last.
ALTER TABLE projects ADD COLUMN is_production boolean NOT NULL DEFAULT false;
ALTER TABLE organizations ADD COLUMN production_grant_max_hours integer CHECK (production_grant_max_hours > 0);
`;
