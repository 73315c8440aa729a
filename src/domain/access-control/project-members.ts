import { isProjectLevel, ProjectLevel } from '../../access/levels.js';
import { explicitMemberDenial } from '../../access/membership-rules.js';
import type { Queryable } from '../../store/database.js';
import { pgErrorCode, PgCode } from '../../store/database.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { requireProjectAccess, type ProjectAccess } from '../organizations/projects.js';
import type { ExplicitProjectMembershipRecord, ProjectRecord, UserRecord } from '../records.js';
import { displayName, isUuid } from '../identity/users.js';
import { sweepOrganization } from './grant-expiry.js';
import { checkGrantTerms, LASTING, sameTerms, type GrantTerms } from './grant-terms.js';

export const PROJECT_NOT_PRIVATE = 'Explicit members can only be accessed for projects with project-based permissioning enabled.';
export const NOT_SAME_ORGANIZATION = 'You both need to belong to the same organization.';

export type ProjectMemberRow = ExplicitProjectMembershipRecord & { parent_level: number; user: UserRecord };

const SELECT = `SELECT e.*, m.level AS parent_level, row_to_json(u.*) AS user
  FROM explicit_project_memberships e
  JOIN organization_memberships m ON m.id = e.parent_membership_id
  JOIN users u ON u.id = m.user_id`;

function withDates(row: ProjectMemberRow): ProjectMemberRow {
  const u = row.user as unknown as Record<string, unknown>;
  return {
    ...row,
    user: { ...row.user, last_login: u.last_login ? new Date(u.last_login as string) : null, date_joined: new Date(u.date_joined as string) },
  };
}

export async function listProjectMembers(q: Queryable, projectId: number): Promise<ProjectMemberRow[]> {
  const rows = await q.query<ProjectMemberRow>(`${SELECT} WHERE e.project_id = $1 ORDER BY e.joined_at, e.id`, [projectId]);
  return rows.map(withDates);
}

/** A user named by uuid, `@me`, or (the source document's `user_id`) numeric id. */
export type UserReference = { uuid: string } | { id: number };

async function findTargetMembership(
  tx: Queryable,
  project: ProjectRecord,
  ref: UserReference,
  actorId: number,
): Promise<{ membershipId: string; user: UserRecord } | undefined> {
  let condition: string;
  let value: unknown;
  if ('id' in ref) {
    // Ids outside the column's integer range name nobody (and must not reach the query as a 500).
    if (!Number.isInteger(ref.id) || ref.id < 1 || ref.id > 2147483647) return undefined;
    [condition, value] = ['u.id = $2', ref.id];
  } else if (ref.uuid === '@me') {
    [condition, value] = ['u.id = $2', actorId];
  } else if (isUuid(ref.uuid)) {
    [condition, value] = ['u.uuid = $2', ref.uuid];
  } else {
    return undefined;
  }
  const [row] = await tx.query<{ membership_id: string; user: UserRecord }>(
    `SELECT m.id AS membership_id, row_to_json(u.*) AS user FROM organization_memberships m
       JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 AND u.is_active AND ${condition}`,
    [project.organization_id, value],
  );
  return row ? { membershipId: row.membership_id, user: row.user } : undefined;
}

async function lockPrivateProject(tx: Queryable, projectId: number, actorId: number): Promise<ProjectAccess> {
  await tx.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
  const access = await requireProjectAccess(tx, projectId, actorId);
  if (!access.project.access_control) throw validation(PROJECT_NOT_PRIVATE, null);
  return access;
}

function assertLevel(level: unknown): asserts level is ProjectLevel {
  if (!isProjectLevel(level)) throw validation(`"${String(level)}" is not a valid choice.`, 'level', 'invalid_choice');
}

export async function addProjectMember(
  tx: Queryable,
  actor: Actor & { userId: number },
  projectId: number,
  ref: UserReference,
  level: unknown = ProjectLevel.MEMBER,
  terms?: GrantTerms,
): Promise<ProjectMemberRow> {
  const access = await lockPrivateProject(tx, projectId, actor.userId);
  await sweepOrganization(tx, access.project.organization_id);
  assertLevel(level);
  const target = await findTargetMembership(tx, access.project, ref, actor.userId);
  if (!target) throw permissionDenied(NOT_SAME_ORGANIZATION);
  const denial = explicitMemberDenial({
    requesterUserId: actor.userId,
    requesterProjectLevel: access.effectiveLevel!,
    targetUserId: target.user.id,
    newLevel: level,
  });
  if (denial) throw permissionDenied(denial);
  await checkGrantTerms(tx, access.project.organization_id, terms ?? LASTING, { projectId });
  let inserted: ExplicitProjectMembershipRecord;
  try {
    [inserted] = (await tx.query<ExplicitProjectMembershipRecord>(
      'INSERT INTO explicit_project_memberships (project_id, parent_membership_id, level, expires_at, reason) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [projectId, target.membershipId, level, terms?.expiresAt ?? null, terms?.reason ?? null],
    )) as [ExplicitProjectMembershipRecord];
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) {
      throw validation('This user likely already is an explicit member of the project.', null, 'unique');
    }
    throw err;
  }
  await logProjectMemberChange(tx, actor, access.project, target.user, 'project_member_added', inserted.id, null, level, terms);
  return (await getProjectMember(tx, inserted.id))!;
}

async function getProjectMember(q: Queryable, id: string): Promise<ProjectMemberRow | undefined> {
  const row = (await q.query<ProjectMemberRow>(`${SELECT} WHERE e.id = $1`, [id]))[0];
  return row && withDates(row);
}

async function requireExplicitMember(tx: Queryable, project: ProjectRecord, userUuid: string, actorId: number): Promise<ProjectMemberRow> {
  const condition = userUuid === '@me' ? 'u.id = $2' : 'u.uuid = $2';
  if (userUuid !== '@me' && !isUuid(userUuid)) throw notFound();
  const row = (
    await tx.query<ProjectMemberRow>(`${SELECT} WHERE e.project_id = $1 AND ${condition}`, [project.id, userUuid === '@me' ? actorId : userUuid])
  )[0];
  if (!row) throw notFound();
  return withDates(row);
}

export async function updateProjectMember(
  tx: Queryable,
  actor: Actor & { userId: number },
  projectId: number,
  userUuid: string,
  level: unknown,
  terms?: GrantTerms,
): Promise<ProjectMemberRow> {
  const access = await lockPrivateProject(tx, projectId, actor.userId);
  await sweepOrganization(tx, access.project.organization_id);
  const member = await requireExplicitMember(tx, access.project, userUuid, actor.userId);
  assertLevel(level);
  const denial = explicitMemberDenial({
    requesterUserId: actor.userId,
    requesterProjectLevel: access.effectiveLevel!,
    targetUserId: member.user.id,
    targetExplicitLevel: member.level,
    newLevel: level,
  });
  if (denial) throw permissionDenied(denial);
  if (terms) await checkGrantTerms(tx, access.project.organization_id, terms, { projectId });
  if (member.level === level && (!terms || sameTerms(terms, member))) return member;
  await tx.query('UPDATE explicit_project_memberships SET level = $2, expires_at = $3, reason = $4, updated_at = now() WHERE id = $1', [
    member.id,
    level,
    terms ? terms.expiresAt : member.expires_at,
    terms ? terms.reason : member.reason,
  ]);
  await logProjectMemberChange(tx, actor, access.project, member.user, 'project_member_level_changed', member.id, member.level, level, terms);
  return (await getProjectMember(tx, member.id))!;
}

export async function removeProjectMember(tx: Queryable, actor: Actor & { userId: number }, projectId: number, userUuid: string): Promise<void> {
  const access = await lockPrivateProject(tx, projectId, actor.userId);
  const member = await requireExplicitMember(tx, access.project, userUuid, actor.userId);
  const denial = explicitMemberDenial({
    requesterUserId: actor.userId,
    requesterProjectLevel: access.effectiveLevel!,
    targetUserId: member.user.id,
    targetExplicitLevel: member.level,
  });
  if (denial) throw permissionDenied(denial);
  await tx.query('DELETE FROM explicit_project_memberships WHERE id = $1', [member.id]);
  await logProjectMemberChange(tx, actor, access.project, member.user, 'project_member_removed', member.id, member.level, null);
}

async function logProjectMemberChange(
  tx: Queryable,
  actor: Actor,
  project: ProjectRecord,
  user: UserRecord,
  activity: string,
  itemId: string,
  before: number | null,
  after: number | null,
  terms?: GrantTerms,
): Promise<void> {
  await recordActivity(tx, {
    organizationId: project.organization_id,
    teamId: project.id,
    actor,
    scope: 'Organization',
    activity,
    itemId,
    detail: {
      name: `${displayName(user)} (${user.email}) in ${project.name}`,
      changes: [
        {
          type: 'ExplicitTeamMembership',
          action: before === null ? 'created' : after === null ? 'deleted' : 'changed',
          field: 'level',
          before,
          after,
        },
      ],
      context: {
        project_id: project.id,
        project_name: project.name,
        user_uuid: user.uuid,
        user_email: user.email,
        ...(terms ? { expires_at: terms.expiresAt, reason: terms.reason } : {}),
      },
    },
  });
}
