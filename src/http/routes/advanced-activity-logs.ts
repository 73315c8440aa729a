import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OrganizationLevel } from '../../access/levels.js';
import { scoped, serving } from '../../access/route-access.js';
import { listActivityKeyset, type ActivityArea, type ActivityFilters } from '../../domain/activity/activity-log.js';
import { activitiesOfClasses, OCSF_CLASSES, ocsfClassOf, toOcsf, type OcsfClass } from '../../domain/activity/activity-ocsf.js';
import { redactForReader } from '../../domain/activity/activity-visibility.js';
import { validation } from '../../domain/errors.js';
import { isUuid } from '../../domain/identity/users.js';
import { VERSION } from '../../version.js';
import { currentUser, type Deps } from '../deps.js';
import { AdvancedActivityPage, AdvancedActivityQuery, AdvancedOrgParams, AdvancedProjectParams } from '../schemas/advanced-activity-logs.js';
import { activityEntry } from '../serializers/activity-log.js';
import { organizationArea } from './activity-log.js';
import { routeProject } from './projects.js';

/**
 * PostHog's advanced activity log, the endpoint its SIEM integrations (the Splunk add-on) poll:
 * `GET /api/organizations/:id/advanced_activity_logs/` and `GET /api/projects/:id/advanced_activity_logs/`,
 * with `schema=ocsf` for OCSF events and `ordering=created_at&follow=true` for a poller that resumes
 * from its last `next`. The entries are those the activity log shows the caller (same area, same
 * redaction: src/domain/activity/activity-visibility.ts).
 */
type Query = Static<typeof AdvancedActivityQuery>;
type Order = 'newest' | 'chain';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** The cursor: which organization (and project) and order it belongs to, and the last position read. */
interface Cursor {
  organizationId: string;
  projectId: number | null;
  order: Order;
  after: number;
}

const encodeCursor = (c: Cursor) =>
  Buffer.from(JSON.stringify({ v: 1, o: c.organizationId, p: c.projectId, k: c.order, a: c.after }), 'utf8').toString('base64url');

function decodeCursor(value: string): Cursor {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]{1,400}$/.test(value) ? JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) : null;
  } catch {
    parsed = null;
  }
  const c = parsed as { v?: unknown; o?: unknown; p?: unknown; k?: unknown; a?: unknown } | null;
  if (
    !c ||
    c.v !== 1 ||
    typeof c.o !== 'string' ||
    !isUuid(c.o) ||
    !(c.p === null || (Number.isSafeInteger(c.p) && (c.p as number) > 0)) ||
    (c.k !== 'newest' && c.k !== 'chain') ||
    !Number.isSafeInteger(c.a) ||
    (c.a as number) < 0
  ) {
    throw validation('Invalid cursor.', 'cursor', 'invalid_cursor');
  }
  return { organizationId: c.o, projectId: c.p as number | null, order: c.k, after: c.a as number };
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function isoDate(value: string | undefined, attr: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!ISO.test(value) || Number.isNaN(Date.parse(value))) throw validation('Datetime has wrong format. Use an ISO 8601 date or date-time.', attr);
  return new Date(value).toISOString();
}

function flag(value: string | undefined, attr: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw validation('Must be a valid boolean.', attr);
}

function readFilters(q: Query): ActivityFilters {
  const filters: ActivityFilters = {};
  const after = isoDate(q.start_date, 'start_date');
  const before = isoDate(q.end_date, 'end_date');
  if (after !== undefined) filters.after = after;
  if (before !== undefined) filters.before = before;
  if (after !== undefined && before !== undefined && Date.parse(after) > Date.parse(before)) {
    throw validation('The range ends before it starts: "start_date" must not be later than "end_date".', 'end_date', 'invalid_range');
  }
  const users = list(q.users);
  if (users.length > 100) throw validation('Ensure this field has no more than 100 elements.', 'users');
  if (users.some((u) => !isUuid(u))) throw validation('A valid user UUID is required.', 'users');
  if (users.length > 0) filters.userUuids = users.map((u) => u.toLowerCase());
  const scopes = list(q.scopes);
  if (scopes.length > 100) throw validation('Ensure this field has no more than 100 elements.', 'scopes');
  if (scopes.length > 0) filters.scopes = [...new Set(scopes)];
  const items = list(q.item_ids);
  if (items.length > 100) throw validation('Ensure this field has no more than 100 elements.', 'item_ids');
  if (items.some((i) => i.length > 72)) throw validation('Ensure this field has no more than 72 characters.', 'item_ids');
  if (items.length > 0) filters.itemIds = [...new Set(items)];
  const activities = list(q.activities);
  if (activities.length > 100) throw validation('Ensure this field has no more than 100 elements.', 'activities');
  const classes = list(q.class_uid).map((c) => {
    if (!(OCSF_CLASSES as readonly number[]).includes(Number(c)) || !/^\d+$/.test(c)) {
      throw validation(`"${c.slice(0, 20)}" is not a valid choice: ${OCSF_CLASSES.join(', ')}.`, 'class_uid', 'invalid_choice');
    }
    return Number(c) as OcsfClass;
  });
  if (activities.length > 0) {
    // Activities of another class than those asked for can never match.
    const kept = classes.length === 0 ? activities : activities.filter((a) => classes.some((c) => classMatches(a, c)));
    filters.activities = { in: [...new Set(kept)] };
  } else if (classes.length > 0) {
    filters.activities = activitiesOfClasses(classes);
  }
  return filters;
}

/** Could an entry of this activity name be of this class (Authentication ones are always in scope Security)? */
const classMatches = (activity: string, c: OcsfClass) => ocsfClassOf({ activity, scope: 'Security' }) === c || ocsfClassOf({ activity, scope: '' }) === c;

function pageSize(q: Query): number {
  const raw = q.page_size ?? q.limit;
  if (raw === undefined || raw === '') return DEFAULT_PAGE;
  if (!/^\d{1,9}$/.test(raw)) throw validation('A valid integer is required.', q.page_size !== undefined ? 'page_size' : 'limit');
  return Math.min(Math.max(Number(raw), 1), MAX_PAGE);
}

function link(request: FastifyRequest, cursor: string): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('cursor', cursor);
  return url.toString();
}

async function page(request: FastifyRequest, db: Deps['db'], q: Query, area: ActivityArea, projectId: number | null) {
  const schema = q.schema ?? '';
  if (schema !== '' && schema !== 'ocsf') throw validation(`"${schema.slice(0, 20)}" is not a valid choice.`, 'schema', 'invalid_choice');
  const ordering = q.ordering || '-created_at';
  if (ordering !== 'created_at' && ordering !== '-created_at')
    throw validation(`"${ordering.slice(0, 20)}" is not a valid choice.`, 'ordering', 'invalid_choice');
  const order: Order = ordering === 'created_at' ? 'chain' : 'newest';
  const follow = flag(q.follow, 'follow');
  if (follow && order !== 'chain') throw validation('follow needs ordering=created_at.', 'follow');
  const filters = readFilters(q);
  const limit = pageSize(q);
  let after: number | null = null;
  if (q.cursor !== undefined && q.cursor !== '') {
    const cursor = decodeCursor(q.cursor);
    if (cursor.organizationId !== area.organizationId) throw validation('This cursor belongs to another organization.', 'cursor', 'invalid_cursor');
    if (cursor.projectId !== projectId) throw validation('This cursor belongs to another project.', 'cursor', 'invalid_cursor');
    if (cursor.order !== order) throw validation('This cursor belongs to another ordering.', 'cursor', 'invalid_cursor');
    after = cursor.after;
  }
  const { rows: stored, more } = await listActivityKeyset(db, area, filters, limit, order, after);
  const rows = await redactForReader(db, stored, currentUser(request).id);
  const last = stored[stored.length - 1];
  const position = last ? last.position : after;
  const resume = more || follow;
  const next = resume ? link(request, encodeCursor({ organizationId: area.organizationId, projectId, order, after: position ?? 0 })) : null;
  const results = schema === 'ocsf' ? rows.map((r) => toOcsf(r, VERSION)) : rows.map((r) => activityEntry(r) as Record<string, unknown>);
  return { next, previous: null, results };
}

export function advancedActivityLogRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/api/organizations/:organization_id/advanced_activity_logs/',
    {
      config: { access: scoped('activity_log', 'read') },
      schema: { params: AdvancedOrgParams, querystring: AdvancedActivityQuery, response: { 200: AdvancedActivityPage } },
    },
    async (request) => page(request, db, request.query, await organizationArea(request, db), null),
  );

  api.get(
    '/api/projects/:project_id/advanced_activity_logs/',
    {
      config: { access: serving('activity_log', 'read', { resource: 'activity_log' }) },
      schema: { params: AdvancedProjectParams, querystring: AdvancedActivityQuery, response: { 200: AdvancedActivityPage } },
    },
    async (request) => {
      const { project, organizationLevel } = routeProject(request);
      const area: ActivityArea = {
        kind: 'project',
        organizationId: project.organization_id,
        projectId: project.id,
        includeOrganizationScoped: flag(request.query.include_organization_scoped, 'include_organization_scoped'),
        includeSecurity: (organizationLevel ?? 0) >= OrganizationLevel.ADMIN,
      };
      return page(request, db, request.query, area, project.id);
    },
  );
}
