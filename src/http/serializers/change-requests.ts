import type { ChangeRequestRecord } from '../../domain/change-requests.js';
import { findUserById } from '../../domain/users.js';
import type { Queryable } from '../../store/database.js';
import { userBasic } from '../serializers.js';

/** A change request with the people who asked and decided. */
export async function showChangeRequest(q: Queryable, r: ChangeRequestRecord) {
  const [requester, decider] = await Promise.all([
    r.requested_by_id === null ? undefined : findUserById(q, r.requested_by_id),
    r.decided_by_id === null ? undefined : findUserById(q, r.decided_by_id),
  ]);
  return {
    id: r.id,
    action: r.action,
    resource: r.resource,
    resource_id: r.resource_id,
    state: r.state,
    requested_by: requester ? userBasic(requester) : null,
    decided_by: decider ? userBasic(decider) : null,
    decided_at: r.decided_at,
    reason: r.reason,
    created_at: r.created_at,
  };
}
