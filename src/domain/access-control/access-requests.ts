/**
 * Access requests (issue 25, part 2; docs/access-requests.md): a member refused a project or a
 * resource asks for a level, for a duration, with a reason. Filing is open to every member of the
 * project's organization, with or without access to the project; deciding is in
 * ./access-request-decisions.ts, reading in ./access-request-reads.ts. Every change of state writes
 * an `AccessRequest` activity entry (requested, approved, denied) in its transaction, with the
 * requester, the level, the duration and the reason, so the organization's sinks carry all of it.
 */
import { MAX_ACCESS_REQUEST_HOURS } from '../../access/access-requests.js';
import { ACCESS_REQUEST_MESSAGES } from '../../access/messages.js';
import { ACCESS_CONTROL_RESOURCES, accessLevelsFor, minimumAccessLevel, type AccessControlResource, type AccessLevel } from '../../access/resources.js';
import { pgErrorCode, PgCode, type Queryable } from '../../store/database.js';
import type { Narrow, Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { DomainError, validation } from '../errors.js';
import type { ProjectAccess } from '../organizations/projects.js';
import type { UserRecord } from '../records.js';
import { findAccessObject, OBJECT_RESOURCES, type ObjectResource } from './access-controls.js';

export type AccessRequestState = 'pending' | 'approved' | 'denied';
export const ACCESS_REQUEST_STATES: readonly AccessRequestState[] = ['pending', 'approved', 'denied'];

export type AccessRequestRecord = Narrow<
  Selectable<DB['access_requests']>,
  { state: AccessRequestState; resource: AccessControlResource; access_level: AccessLevel; granted_access_level: AccessLevel | null }
>;

export interface AccessRequestInput {
  resource?: unknown;
  resource_id?: unknown;
  access_level?: unknown;
  duration_hours?: unknown;
  expires_at?: unknown;
  reason?: unknown;
}

const MAX_REASON = 1000;
const isResource = (value: unknown): value is AccessControlResource => value === 'project' || (ACCESS_CONTROL_RESOURCES as readonly unknown[]).includes(value);

/** A level the resource can be given, above `none` (asking for no access is no request). */
export function requestableLevel(resource: AccessControlResource, value: unknown, attr = 'access_level'): AccessLevel {
  const all = accessLevelsFor(resource);
  const levels = all.filter((l) => l !== 'none' && all.indexOf(l) >= all.indexOf(minimumAccessLevel(resource)));
  if (typeof value !== 'string' || !(levels as readonly string[]).includes(value)) {
    throw validation(`Invalid access level. Must be one of: ${levels.join(', ')}`, attr, 'invalid_choice');
  }
  return value as AccessLevel;
}

/** A whole number of hours from 1 to the maximum. */
export function durationHours(value: unknown, attr = 'duration_hours'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ACCESS_REQUEST_HOURS) {
    throw validation(`Ensure this is a whole number of hours from 1 to ${MAX_ACCESS_REQUEST_HOURS}.`, attr, 'invalid');
  }
  return value;
}

/** A time in the future, within the maximum duration. */
export function futureTime(value: unknown, now: Date, attr = 'expires_at'): Date {
  const time = typeof value === 'string' && value.length <= 64 ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) throw validation('Datetime has wrong format. Use an ISO 8601 date and time.', attr, 'invalid');
  if (time.getTime() <= now.getTime()) throw validation(ACCESS_REQUEST_MESSAGES.expiryInPast, attr, 'invalid');
  if (time.getTime() > now.getTime() + MAX_ACCESS_REQUEST_HOURS * 3_600_000) {
    throw validation(`Access can be requested for at most ${MAX_ACCESS_REQUEST_HOURS} hours.`, attr, 'invalid');
  }
  return time;
}

/** Text a person wrote: required (unless optional), trimmed, bounded. */
export function reasonText(value: unknown, attr: string, message: string = ACCESS_REQUEST_MESSAGES.reasonRequired): string {
  if (typeof value !== 'string' || value.trim() === '') throw validation(message, attr, 'required');
  if (value.length > MAX_REASON) throw validation(`Ensure this field has no more than ${MAX_REASON} characters.`, attr, 'max_length');
  return value.trim();
}

interface ValidRequest {
  resource: AccessControlResource;
  resourceId: string | null;
  level: AccessLevel;
  durationHours: number | null;
  expiresAt: Date | null;
  reason: string;
}

async function validate(q: Queryable, projectId: number, input: AccessRequestInput, now: Date): Promise<ValidRequest> {
  if (input.resource === undefined || input.resource === null) throw validation('This field is required.', 'resource', 'required');
  if (!isResource(input.resource))
    throw validation(`Invalid resource. Must be project or one of: ${ACCESS_CONTROL_RESOURCES.join(', ')}`, 'resource', 'invalid_choice');
  const resource = input.resource;
  let resourceId: string | null = null;
  const rawId = input.resource_id === undefined || input.resource_id === null || input.resource_id === '' ? null : String(input.resource_id);
  if (resource === 'project') {
    if (rawId !== null && rawId !== String(projectId)) throw validation('A request for a project names the project of its path.', 'resource_id', 'invalid');
    resourceId = String(projectId);
  } else if (rawId !== null) {
    if (!(resource in OBJECT_RESOURCES)) {
      throw validation(`Access to one object can be requested only for: ${Object.keys(OBJECT_RESOURCES).join(', ')}.`, 'resource_id', 'invalid');
    }
    const object = await findAccessObject(q, projectId, resource as ObjectResource, rawId).catch(() => null);
    if (!object) throw validation(`Invalid pk "${rawId.slice(0, 200)}" - object does not exist.`, 'resource_id', 'does_not_exist');
    resourceId = object.id;
  }
  const level = requestableLevel(resource, input.access_level);
  const hasDuration = input.duration_hours !== undefined && input.duration_hours !== null;
  const hasExpiry = input.expires_at !== undefined && input.expires_at !== null;
  if (hasDuration === hasExpiry) throw validation('Give either duration_hours or expires_at.', 'duration_hours', 'required');
  const duration = hasDuration ? durationHours(input.duration_hours) : null;
  const expiresAt = hasExpiry ? futureTime(input.expires_at, now) : null;
  return { resource, resourceId, level, durationHours: duration, expiresAt, reason: reasonText(input.reason, 'reason') };
}

/** What the request is about, in words: "project Production", "feature_flag 12 in Production". */
export const describeTarget = (r: Pick<AccessRequestRecord, 'resource' | 'resource_id'>, projectName: string) =>
  r.resource === 'project' ? `project ${projectName}` : `${r.resource}${r.resource_id === null ? ' (project-wide)' : ` ${r.resource_id}`} in ${projectName}`;

/** The activity entry of a change of state: everything a notification needs, requester to reason. */
export async function logAccessRequest(
  tx: Queryable,
  actor: Actor,
  request: AccessRequestRecord,
  activity: 'requested' | 'approved' | 'denied',
  people: { requester: UserRecord; project: { id: number; name: string }; decider?: UserRecord },
): Promise<void> {
  const { requester, project, decider } = people;
  const target = describeTarget(request, project.name);
  await recordActivity(tx, {
    organizationId: request.organization_id,
    teamId: request.team_id,
    actor,
    scope: 'AccessRequest',
    activity,
    itemId: request.id,
    detail: {
      name: `${requester.email} asks for ${request.access_level} access to ${target}`,
      changes: [
        {
          type: 'AccessRequest',
          action: activity === 'requested' ? 'created' : 'changed',
          field: 'state',
          before: activity === 'requested' ? null : 'pending',
          after: request.state,
        },
      ],
      context: {
        project_id: project.id,
        project_name: project.name,
        requester: { id: requester.id, uuid: requester.uuid, email: requester.email },
        resource: request.resource,
        resource_id: request.resource_id,
        access_level: request.access_level,
        duration_hours: request.duration_hours,
        expires_at: request.requested_expires_at?.toISOString() ?? null,
        reason: request.reason,
        ...(decider
          ? {
              decided_by: { id: decider.id, uuid: decider.uuid, email: decider.email },
              decision_reason: request.decision_reason,
              granted_access_level: request.granted_access_level,
              granted_expires_at: request.granted_expires_at?.toISOString() ?? null,
            }
          : {}),
      },
    },
  });
}

/**
 * Files a request in the project the guard resolved (the requester is a member of its organization,
 * with or without access to the project). One pending request per person and target: 409 otherwise.
 */
export async function fileAccessRequest(
  tx: Queryable,
  actor: Actor & { userId: number },
  requester: UserRecord,
  access: ProjectAccess,
  input: AccessRequestInput,
  now = new Date(),
): Promise<AccessRequestRecord> {
  const project = access.project;
  const valid = await validate(tx, project.id, input, now);
  const pending = await tx.query<{ id: string }>(
    `SELECT id FROM access_requests WHERE team_id = $1 AND requested_by_id = $2 AND resource = $3
        AND resource_id IS NOT DISTINCT FROM $4 AND state = 'pending'`,
    [project.id, actor.userId, valid.resource, valid.resourceId],
  );
  if (pending.length > 0) throw new DomainError('conflict', ACCESS_REQUEST_MESSAGES.pendingExists, 'conflict');
  let created: AccessRequestRecord;
  try {
    [created] = (await tx.query<AccessRequestRecord>(
      `INSERT INTO access_requests (organization_id, team_id, requested_by_id, organization_member_id, resource, resource_id, access_level,
                                    duration_hours, requested_expires_at, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [
        project.organization_id,
        project.id,
        actor.userId,
        access.organizationMemberId,
        valid.resource,
        valid.resourceId,
        valid.level,
        valid.durationHours,
        valid.expiresAt,
        valid.reason,
      ],
    )) as [AccessRequestRecord];
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) throw new DomainError('conflict', ACCESS_REQUEST_MESSAGES.pendingExists, 'conflict');
    throw err;
  }
  await logAccessRequest(tx, actor, created, 'requested', { requester, project });
  return created;
}
