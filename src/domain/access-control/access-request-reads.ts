import { deciderDenial, type DeciderFacts } from '../../access/access-requests.js';
import { accessLevelsFor, type AccessLevel } from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import { notFound } from '../errors.js';
import { isUuid } from '../identity/users.js';
import { findProjectAccess } from '../organizations/projects.js';
import type { UserRecord } from '../records.js';
import { findAccessObject, type ObjectResource } from './access-controls.js';
import type { AccessRequestRecord, AccessRequestState } from './access-requests.js';
import { accessLevel, loadResourceActor } from './resource-access.js';

/** A request with the people and the project it names, and what the viewer may do with it. */
export type AccessRequestView = AccessRequestRecord & {
  requester: UserRecord;
  decider: UserRecord | null;
  project_name: string;
  can_decide: boolean;
  is_requester: boolean;
};

type Row = AccessRequestRecord & { requester: UserRecord; decider: UserRecord | null; project_name: string };

const SELECT = `SELECT r.*, row_to_json(u.*) AS requester, row_to_json(d.*) AS decider, p.name AS project_name
  FROM access_requests r JOIN users u ON u.id = r.requested_by_id JOIN projects p ON p.id = r.team_id
  LEFT JOIN users d ON d.id = r.decided_by_id`;

/** The decider's facts about one request's target (their project level, and their level on the object). */
export async function deciderFacts(q: Queryable, request: AccessRequestRecord, userId: number): Promise<DeciderFacts | null> {
  const project = await findProjectAccess(q, request.team_id, userId);
  if (!project || project.organizationLevel === null) return null;
  const facts: DeciderFacts = { userId, organizationLevel: project.organizationLevel, projectLevel: project.effectiveLevel };
  if (request.resource !== 'project' && request.resource_id !== null && project.effectiveLevel !== null) {
    const object = await findAccessObject(q, request.team_id, request.resource as ObjectResource, request.resource_id).catch(() => null);
    const actor = object ? await loadResourceActor(q, request.team_id, userId) : undefined;
    if (object && actor) {
      facts.objectLevel = accessLevel(actor, request.resource, object).level;
      facts.isCreator = object.created_by_id === userId;
    }
  }
  return facts;
}

/** The lowest level a request could be approved at: who may grant that may decide it (perhaps approving less). */
export const lowestLevel = (request: AccessRequestRecord): AccessLevel => accessLevelsFor(request.resource).find((l) => l !== 'none')!;

/** Why this user may not decide the request at `level` (default: at the lowest level), or null. */
export async function decisionDenial(q: Queryable, request: AccessRequestRecord, userId: number, level = lowestLevel(request)): Promise<string | null> {
  const facts = await deciderFacts(q, request, userId);
  if (!facts) return 'Not found.';
  return deciderDenial({ resource: request.resource, resourceId: request.resource === 'project' ? null : request.resource_id, level }, facts);
}

async function view(q: Queryable, row: Row, userId: number): Promise<AccessRequestView> {
  const isRequester = row.requested_by_id === userId;
  const canDecide = row.state === 'pending' && !isRequester && (await decisionDenial(q, row, userId)) === null;
  return { ...row, can_decide: canDecide, is_requester: isRequester };
}

/** The organization's pending requests this user may decide, oldest first. */
export async function listDecidable(q: Queryable, organizationId: string, userId: number): Promise<AccessRequestView[]> {
  const rows = await q.query<Row>(`${SELECT} WHERE r.organization_id = $1 AND r.state = 'pending' ORDER BY r.created_at, r.id`, [organizationId]);
  const views = await Promise.all(rows.map((r) => view(q, r, userId)));
  return views.filter((v) => v.can_decide);
}

/** A project's requests this user filed or may decide (pending, or any they could have), newest first. */
export async function listForProject(q: Queryable, projectId: number, userId: number, state?: AccessRequestState): Promise<AccessRequestView[]> {
  const rows = await q.query<Row>(`${SELECT} WHERE r.team_id = $1 ${state ? 'AND r.state = $2' : ''} ORDER BY r.created_at DESC, r.id`, [
    projectId,
    ...(state ? [state] : []),
  ]);
  const out: AccessRequestView[] = [];
  for (const row of rows) {
    if (row.requested_by_id === userId || row.decided_by_id === userId || (await decisionDenial(q, row, userId)) === null) out.push(await view(q, row, userId));
  }
  return out;
}

/** One request, for its requester or someone who may decide it (or decided it); 404 for anyone else. */
export async function getAccessRequest(q: Queryable, projectId: number, id: string, userId: number, lock = false): Promise<AccessRequestView> {
  if (!isUuid(id)) throw notFound();
  const [row] = await q.query<Row>(`${SELECT} WHERE r.team_id = $1 AND r.id = $2${lock ? ' FOR UPDATE OF r' : ''}`, [projectId, id]);
  if (!row) throw notFound();
  if (row.requested_by_id !== userId && row.decided_by_id !== userId && (await decisionDenial(q, row, userId)) !== null) throw notFound();
  return view(q, row, userId);
}
