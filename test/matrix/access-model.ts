/**
 * The access-control dimension of the authorization matrix: configurations of PostHog's
 * access-control rows in one project, and the oracle that says what a member should get on every
 * resource route under them. Written out from PostHog's rules (posthog-reference.md §2c,
 * posthog/rbac/user_access_control.py and posthog/permissions.py), not from src/access/.
 */

export type Level = 'none' | 'viewer' | 'editor' | 'manager';
export type ProjectLevel = 'none' | 'member' | 'admin';
/** Where a row sits: project-wide for the resource type or on the target object; for everyone (default), the subject's role, or the subject. */
export type Placement = 'resource-default' | 'resource-role' | 'resource-member' | 'object-default' | 'object-role' | 'object-member';
export const PLACEMENTS: readonly Placement[] = ['resource-default', 'resource-role', 'resource-member', 'object-default', 'object-role', 'object-member'];
export const LEVELS: readonly Level[] = ['none', 'viewer', 'editor', 'manager'];

/** The object resources the dimension walks, and the two without objects. */
export type ObjectResource = 'feature_flag' | 'insight' | 'dashboard' | 'session_recording';
export const OBJECT_RESOURCES: readonly ObjectResource[] = ['feature_flag', 'insight', 'dashboard', 'session_recording'];
export type Resource = ObjectResource | 'event' | 'activity_log';

export interface Config {
  name: string;
  /** Rows applied to every object resource (on the target objects for object placements), to `event` (project-wide ones) and to `activity_log` (capped at viewer). */
  rows: ReadonlyArray<{ at: Placement; level: Level }>;
  /** Rows on the project itself (PostHog's project access controls). */
  projectRows?: ReadonlyArray<{ at: 'default' | 'role' | 'member'; level: ProjectLevel }>;
  /** The subject created the target objects. */
  subjectCreated?: boolean;
  /** The organization turns off `members_can_use_personal_api_keys`. */
  forbidMemberKeys?: boolean;
}

/** Who asks: the subject (a plain member in the subject role, by session or by its `*` key), another plain member, an admin, another organization's owner. */
export type Asker = 'subject' | 'other-member' | 'admin' | 'outsider';

/**
 * Before any rule: someone outside the organization finds neither its projects nor the organization
 * (404), and where the organization forbids member keys a plain member's key is refused (403).
 */
export function beforeRules(config: Config, asker: Asker, via: 'session' | 'key'): Expectation | null {
  if (asker === 'outsider') return { status: 404 };
  if (via === 'key' && config.forbidMemberKeys && asker !== 'admin') return { status: 403 };
  return null;
}

const ORDER: Record<Level, number> = { none: 0, viewer: 1, editor: 2, manager: 3 };
const max = (levels: Level[]): Level | null => (levels.length === 0 ? null : levels.reduce((a, b) => (ORDER[a] >= ORDER[b] ? a : b)));
const atLeast = (have: Level, need: Level) => ORDER[have] >= ORDER[need];

/** activity_log has only none and viewer: any higher row is stored as viewer. */
export const levelFor = (resource: Resource, level: Level): Level => (resource === 'activity_log' && level !== 'none' ? 'viewer' : level);

function rowsOf(config: Config, asker: Asker, resource: Resource, tier: 'resource' | 'object') {
  // The role and member rows name the subject; the defaults apply to every member.
  const applies = (at: Placement) => at.endsWith('-default') || asker === 'subject';
  return config.rows.filter(
    (r) => r.at.startsWith(`${tier}-`) && applies(r.at) && !(tier === 'object' && (resource === 'event' || resource === 'activity_log')),
  );
}

const defaultLevel = (resource: Resource): Level => (resource === 'activity_log' ? 'viewer' : 'editor');
const highestLevel = (resource: Resource): Level => (resource === 'activity_log' ? 'viewer' : 'manager');

/** The level on the resource type: admins the highest; the highest project-wide row that applies; else the default. */
export function resourceLevel(config: Config, asker: Asker, resource: Resource): Level {
  if (asker === 'admin') return highestLevel(resource);
  return max(rowsOf(config, asker, resource, 'resource').map((r) => levelFor(resource, r.level))) ?? defaultLevel(resource);
}

/** The level on the target object: creator and admins the highest; the subject's own/role rows on it; the project-wide rows; its default row; the default. */
export function objectLevel(config: Config, asker: Asker, resource: ObjectResource): Level {
  if (asker === 'admin' || (asker === 'subject' && config.subjectCreated && resource !== 'session_recording')) return highestLevel(resource);
  const onObject = rowsOf(config, asker, resource, 'object');
  const specific = max(onObject.filter((r) => !r.at.endsWith('-default')).map((r) => r.level));
  if (specific) return specific;
  const projectWide = max(rowsOf(config, asker, resource, 'resource').map((r) => r.level));
  if (projectWide) return projectWide;
  return max(onObject.filter((r) => r.at.endsWith('-default')).map((r) => r.level)) ?? defaultLevel(resource);
}

/** May the asker use a route of the resource at all: its level on the type, or (not when creating) a grant of theirs on some object. */
export function routeAllowed(config: Config, asker: Asker, resource: Resource, need: Level, creates: boolean): boolean {
  if (atLeast(resourceLevel(config, asker, resource), need)) return true;
  if (creates || resource === 'event' || resource === 'activity_log') return false;
  return rowsOf(config, asker, resource, 'object').some((r) => !r.at.endsWith('-default') && atLeast(r.level, need));
}

/** Does a list show the target object? */
export function listShows(config: Config, asker: Asker, resource: ObjectResource): boolean {
  if (asker === 'admin' || (asker === 'subject' && config.subjectCreated && resource !== 'session_recording')) return true;
  const onObject = rowsOf(config, asker, resource, 'object');
  const explicit = onObject.filter((r) => !r.at.endsWith('-default'));
  if (resourceLevel(config, asker, resource) === 'none' || explicit.length > 0) return explicit.some((r) => r.level !== 'none');
  return onObject.length === 0 || onObject.some((r) => r.level !== 'none');
}

/** The asker's reach into the (open) project: PostHog's project rows decide when one applies, else `open` (a plain member). */
export function projectReach(config: Config, asker: Asker): ProjectLevel | 'open' {
  if (asker === 'admin') return 'admin';
  const rows = (config.projectRows ?? []).filter((r) => r.at === 'default' || asker === 'subject');
  const order: Record<ProjectLevel, number> = { none: 0, member: 1, admin: 2 };
  const pick = (rs: typeof rows) => (rs.length === 0 ? null : rs.map((r) => r.level).reduce((a, b) => (order[a] >= order[b] ? a : b)));
  const specific = pick(rows.filter((r) => r.at !== 'default'));
  if (specific) return specific;
  return pick(rows.filter((r) => r.at === 'default')) ?? 'open';
}

export type RouteKind = 'list' | 'create' | 'retrieve' | 'update' | 'delete';

export interface Expectation {
  status: number;
  /** For lists that answer 200: whether the target object is in them. */
  shows?: boolean;
  /** For activity-log reads that answer 200: whether the entry about the target is there, and with its detail. */
  entry?: 'absent' | 'redacted' | 'full';
}

const OK: Record<RouteKind, number> = { list: 200, create: 201, retrieve: 200, update: 200, delete: 204 };

/** The answer to a route of an object resource (or the events routes, which have no objects). */
export function expectedResourceRoute(config: Config, asker: Asker, resource: Resource, kind: RouteKind): Expectation {
  const reach = projectReach(config, asker);
  if (reach === 'none') return { status: 403 };
  const need: Level = kind === 'list' || kind === 'retrieve' ? 'viewer' : 'editor';
  if (!routeAllowed(config, asker, resource, need, kind === 'create')) return { status: 403 };
  if ((kind === 'retrieve' || kind === 'update' || kind === 'delete') && resource !== 'event' && resource !== 'activity_log') {
    if (!atLeast(objectLevel(config, asker, resource), need)) return { status: 403 };
  }
  if (kind === 'list' && resource !== 'event' && resource !== 'activity_log') return { status: 200, shows: listShows(config, asker, resource) };
  return { status: OK[kind] };
}

/** PATCH of the project: project members may, unless a project row makes them only `member`. */
export function expectedProjectUpdate(config: Config, asker: Asker): number {
  const reach = projectReach(config, asker);
  if (reach === 'none') return 403;
  return reach === 'member' ? 403 : 200;
}

/** The project's activity log, asked for the entry about the target object of `resource`. */
export function expectedProjectActivity(config: Config, asker: Asker, resource: ObjectResource): Expectation {
  if (projectReach(config, asker) === 'none') return { status: 403 };
  if (!routeAllowed(config, asker, 'activity_log', 'viewer', false)) return { status: 403 };
  return { status: 200, entry: atLeast(objectLevel(config, asker, resource), 'viewer') ? 'full' : 'redacted' };
}

/** The organization's activity log with `?project=`: the project's entries only for readers of its log. */
export function expectedOrganizationActivity(config: Config, asker: Asker, resource: ObjectResource): Expectation {
  if (projectReach(config, asker) === 'none' || !routeAllowed(config, asker, 'activity_log', 'viewer', false)) return { status: 200, entry: 'absent' };
  return { status: 200, entry: atLeast(objectLevel(config, asker, resource), 'viewer') ? 'full' : 'redacted' };
}

/** The configurations walked: none; each placement alone at each level; pairs across tiers; creators; project rows. */
export function configurations(): Config[] {
  const list: Config[] = [{ name: 'no rows', rows: [] }];
  for (const at of PLACEMENTS) for (const level of LEVELS) list.push({ name: `${at} ${level}`, rows: [{ at, level }] });
  const pairs: Array<[Level, Level]> = [
    ['none', 'editor'],
    ['editor', 'none'],
  ];
  for (let i = 0; i < PLACEMENTS.length; i++) {
    for (let j = i + 1; j < PLACEMENTS.length; j++) {
      for (const [a, b] of pairs) {
        list.push({
          name: `${PLACEMENTS[i]} ${a} + ${PLACEMENTS[j]} ${b}`,
          rows: [
            { at: PLACEMENTS[i]!, level: a },
            { at: PLACEMENTS[j]!, level: b },
          ],
        });
      }
    }
  }
  list.push(
    { name: 'created by the subject, object-member none', rows: [{ at: 'object-member', level: 'none' }], subjectCreated: true },
    { name: 'created by the subject, resource-default none', rows: [{ at: 'resource-default', level: 'none' }], subjectCreated: true },
    { name: 'project default none', rows: [], projectRows: [{ at: 'default', level: 'none' }] },
    {
      name: 'project default none, subject admin',
      rows: [],
      projectRows: [
        { at: 'default', level: 'none' },
        { at: 'member', level: 'admin' },
      ],
    },
    { name: 'project role member', rows: [{ at: 'resource-default', level: 'viewer' }], projectRows: [{ at: 'role', level: 'member' }] },
    {
      name: 'project default admin, subject none',
      rows: [],
      projectRows: [
        { at: 'default', level: 'admin' },
        { at: 'member', level: 'none' },
      ],
    },
    { name: 'organization forbids member keys', rows: [{ at: 'resource-default', level: 'editor' }], forbidMemberKeys: true },
    { name: 'member keys allowed again', rows: [{ at: 'resource-default', level: 'editor' }] },
  );
  return list;
}
