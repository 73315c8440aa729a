import type { AccessLevel } from '../../access/resources.js';
import type { Queryable } from '../../store/database.js';
import type { Actor } from '../actor.js';
import { putAccessControl, type AccessControlScope, type ObjectResource } from './access-controls.js';
import type { AccessRequestRecord } from './access-requests.js';

/** An approved request: the level the approver granted is set. */
export type ApprovedAccessRequest = AccessRequestRecord & { granted_access_level: AccessLevel };

/**
 * The grant an approved access request makes, in the approval's transaction: the requester's own
 * access-control row on what they asked for (the project, a resource type project-wide, or one
 * object), at the granted level until the granted end (a time-bound grant), made as the approver
 * (so the approver's authority is checked again and the row's AccessControl activity entry names
 * them). Returns the row's id.
 */
export async function grantAccessRequest(
  tx: Queryable,
  approver: Actor & { userId: number },
  request: ApprovedAccessRequest,
  terms: { expiresAt: Date; reason: string },
): Promise<string> {
  const scope: AccessControlScope =
    request.resource === 'project'
      ? { kind: 'project' }
      : request.resource_id === null
        ? { kind: 'resource' }
        : { kind: 'object', resource: request.resource as ObjectResource, objectId: request.resource_id };
  const input = { access_level: request.granted_access_level, organization_member: request.organization_member_id, resource: request.resource };
  const row = await putAccessControl(tx, approver, request.team_id, scope, input, terms);
  return row!.id;
}
