/**
 * Cache invalidation at the source: every change to a table the access cache reads from names what
 * changed (`user:7`, `org:<uuid>`, `project:3`, …) in two places, whoever made it (a Warden node, the
 * CLI, an operator in psql):
 * - `pg_notify('warden_cache', …)`, delivered at commit to every node listening (src/cache/);
 * - the transaction-local setting `warden.invalidated`, which the writing node reads just before its
 *   own commit, so that its cache forgets at once, before the write is acknowledged.
 * Statement-level triggers with transition tables: a bulk change costs one notification, and one
 * touching more than 100 things says `*` (forget everything) instead.
 */
const WATCHED: ReadonlyArray<{ table: string; tag: string; column: string; events: ReadonlyArray<'INSERT' | 'UPDATE' | 'DELETE'> }> = [
  { table: 'users', tag: 'user', column: 'id', events: ['UPDATE', 'DELETE'] },
  { table: 'sessions', tag: 'user', column: 'user_id', events: ['UPDATE', 'DELETE'] },
  { table: 'personal_api_keys', tag: 'key', column: 'id', events: ['UPDATE', 'DELETE'] },
  { table: 'organizations', tag: 'org', column: 'id', events: ['UPDATE', 'DELETE'] },
  { table: 'organization_memberships', tag: 'org', column: 'organization_id', events: ['INSERT', 'UPDATE', 'DELETE'] },
  { table: 'roles', tag: 'org', column: 'organization_id', events: ['UPDATE', 'DELETE'] },
  { table: 'role_memberships', tag: 'member', column: 'organization_member_id', events: ['INSERT', 'UPDATE', 'DELETE'] },
  { table: 'projects', tag: 'project', column: 'id', events: ['UPDATE', 'DELETE'] },
  { table: 'explicit_project_memberships', tag: 'project', column: 'project_id', events: ['INSERT', 'UPDATE', 'DELETE'] },
  { table: 'access_controls', tag: 'project', column: 'team_id', events: ['INSERT', 'UPDATE', 'DELETE'] },
  { table: 'feature_flags', tag: 'flags', column: 'team_id', events: ['INSERT', 'UPDATE', 'DELETE'] },
];

/** The tables whose changes invalidate cached facts (the caching database captures direct writes to them). */
export const WATCHED_TABLES: ReadonlySet<string> = new Set(WATCHED.map((w) => w.table));

const triggers = WATCHED.flatMap(({ table, tag, column, events }) =>
  events.map((event) => {
    const rows = event === 'INSERT' ? 'NEW' : 'OLD';
    return `CREATE TRIGGER ${table}_cache_${event.toLowerCase()} AFTER ${event} ON ${table}
  REFERENCING ${rows} TABLE AS changed_rows FOR EACH STATEMENT
  EXECUTE FUNCTION warden_cache_changed('${tag}', '${column}');`;
  }),
).join('\n');

export const sql = `
CREATE FUNCTION warden_cache_invalidate(tags text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  pending text := coalesce(current_setting('warden.invalidated', true), '');
BEGIN
  IF tags = '' THEN RETURN; END IF;
  PERFORM pg_notify('warden_cache', tags);
  IF length(pending) + length(tags) > 4000 THEN pending := '*'; tags := ''; END IF;
  PERFORM set_config('warden.invalidated', pending || ' ' || tags, true);
END $$;

CREATE FUNCTION warden_cache_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text[];
BEGIN
  EXECUTE format('SELECT array_agg(DISTINCT %I::text) FROM changed_rows', TG_ARGV[1]) INTO ids;
  IF ids IS NULL THEN RETURN NULL; END IF;
  IF cardinality(ids) > 100 THEN
    PERFORM warden_cache_invalidate('*');
  ELSE
    PERFORM warden_cache_invalidate(array_to_string(ARRAY(SELECT TG_ARGV[0] || ':' || id FROM unnest(ids) AS id), ' '));
  END IF;
  RETURN NULL;
END $$;

${triggers}
`;
