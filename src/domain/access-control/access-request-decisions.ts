import { approvedExpiry } from '../../access/access-requests.js';
import { ACCESS_REQUEST_MESSAGES } from '../../access/messages.js';
import { compareAccessLevels } from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import type { Actor } from '../actor.js';
import { DomainError, notFound, permissionDenied, validation } from '../errors.js';
import { isUuid } from '../identity/users.js';
import type { UserRecord } from '../records.js';
import { grantAccessRequest, type ApprovedAccessRequest } from './access-request-grant.js';
import { decisionDenial, getAccessRequest, type AccessRequestView } from './access-request-reads.js';
import { durationHours, futureTime, logAccessRequest, reasonText, requestableLevel, type AccessRequestRecord } from './access-requests.js';

export interface DecisionInput {
  access_level?: unknown;
  duration_hours?: unknown;
  expires_at?: unknown;
  reason?: unknown;
}

/** The request, locked for the decision; 404 when the project has no such request. */
async function lockRequest(tx: Queryable, projectId: number, id: string): Promise<AccessRequestRecord> {
  if (!isUuid(id)) throw notFound();
  const [row] = await tx.query<AccessRequestRecord>('SELECT * FROM access_requests WHERE team_id = $1 AND id = $2 FOR UPDATE', [projectId, id]);
  if (!row) throw notFound();
  return row;
}

/**
 * Approves (possibly at a lower level or for a shorter time) or denies a pending request. Refused:
 * your own request (403), anyone who could not make the grant (403, the ceiling), a request already
 * decided (409), an approval above the level or beyond the time requested (400). Approval creates
 * the grant (./access-request-grant.ts) in this transaction, with the decision's entry.
 */
export async function decideAccessRequest(
  tx: Queryable,
  actor: Actor & { userId: number },
  decider: UserRecord,
  projectId: number,
  id: string,
  verdict: 'approved' | 'denied',
  input: DecisionInput,
  now = new Date(),
): Promise<AccessRequestView> {
  const request = await lockRequest(tx, projectId, id);
  if (request.requested_by_id === actor.userId) throw permissionDenied(ACCESS_REQUEST_MESSAGES.ownRequest);
  const denial = await decisionDenial(tx, request, actor.userId);
  if (denial) throw permissionDenied(denial);
  if (request.state !== 'pending') throw new DomainError('conflict', ACCESS_REQUEST_MESSAGES.alreadyDecided(request.state), 'conflict');

  let decided: AccessRequestRecord;
  if (verdict === 'denied') {
    const reason = reasonText(input.reason, 'reason', 'Say why the request is denied.');
    [decided] = (await tx.query<AccessRequestRecord>(
      `UPDATE access_requests SET state = 'denied', decided_by_id = $2, decided_at = $3, decision_reason = $4, updated_at = $3 WHERE id = $1 RETURNING *`,
      [request.id, actor.userId, now, reason],
    )) as [AccessRequestRecord];
  } else {
    const level =
      input.access_level === undefined || input.access_level === null ? request.access_level : requestableLevel(request.resource, input.access_level);
    if (compareAccessLevels(request.resource, level, request.access_level) > 0) throw validation(ACCESS_REQUEST_MESSAGES.higherThanRequested, 'access_level');
    const ceiling = await decisionDenial(tx, request, actor.userId, level);
    if (ceiling) throw permissionDenied(ceiling);
    const hasDuration = input.duration_hours !== undefined && input.duration_hours !== null;
    const hasExpiry = input.expires_at !== undefined && input.expires_at !== null;
    if (hasDuration && hasExpiry) throw validation('Give either duration_hours or expires_at, not both.', 'duration_hours');
    // Shape first (a whole number of hours, a time); whether it is longer than asked is approvedExpiry's.
    const decidedDuration = hasDuration ? durationHours(input.duration_hours) : null;
    const decidedExpiry = hasExpiry ? futureTime(input.expires_at, now) : null;
    const expiry = approvedExpiry(
      { durationHours: request.duration_hours, expiresAt: request.requested_expires_at },
      { durationHours: decidedDuration, expiresAt: decidedExpiry },
      now,
    );
    if ('error' in expiry) throw validation(expiry.error, expiry.attr);
    const reason = input.reason === undefined || input.reason === null || input.reason === '' ? null : reasonText(input.reason, 'reason');
    const [approved] = (await tx.query<AccessRequestRecord>(
      `UPDATE access_requests SET state = 'approved', decided_by_id = $2, decided_at = $3, decision_reason = $4, granted_access_level = $5,
              granted_expires_at = $6, updated_at = $3 WHERE id = $1 RETURNING *`,
      [request.id, actor.userId, now, reason, level, expiry.expiresAt],
    )) as [AccessRequestRecord];
    const grantId = await grantAccessRequest(tx, actor, approved as ApprovedAccessRequest, {
      expiresAt: expiry.expiresAt,
      reason: reason ?? approved.reason,
    });
    [decided] = (await tx.query<AccessRequestRecord>('UPDATE access_requests SET access_control_id = $2 WHERE id = $1 RETURNING *', [request.id, grantId])) as [
      AccessRequestRecord,
    ];
  }
  const [people] = await tx.query<{ requester: UserRecord; project_id: number; project_name: string }>(
    `SELECT row_to_json(u.*) AS requester, p.id AS project_id, p.name AS project_name
       FROM access_requests r JOIN users u ON u.id = r.requested_by_id JOIN projects p ON p.id = r.team_id WHERE r.id = $1`,
    [request.id],
  );
  await logAccessRequest(tx, actor, decided, verdict, {
    requester: people!.requester,
    project: { id: people!.project_id, name: people!.project_name },
    decider,
  });
  return getAccessRequest(tx, projectId, request.id, actor.userId);
}
