import { hasSecondFactorSql } from '../identity/second-factor-rule.js';
import { isOrganizationLevel, OrganizationLevel } from '../../access/levels.js';
import { LAST_OWNER, membershipUpdateDenial, OWNER_CANNOT_LEAVE } from '../../access/membership-rules.js';
import type { Queryable } from '../../store/database.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { countOwners, lockOrganization, membershipContext, requireMembership } from './organizations.js';
import type { MembershipRecord, OrganizationRecord, UserRecord } from '../records.js';
import { displayName, isUuid } from '../identity/users.js';
import { sweepOrganization } from '../access-control/grant-expiry.js';
import { checkGrantTerms, LASTING, type GrantTerms } from '../access-control/grant-terms.js';

export type MemberRow = MembershipRecord & { user: UserRecord; is_2fa_enabled?: boolean };

const MEMBER_SELECT = `SELECT m.*, row_to_json(u.*) AS user, ${hasSecondFactorSql('u.id')} AS is_2fa_enabled
  FROM organization_memberships m JOIN users u ON u.id = m.user_id`;

export interface MemberFilter {
  search?: string;
  email?: string;
  limit: number;
  offset: number;
}

export async function listMembers(q: Queryable, organizationId: string, filter: MemberFilter): Promise<{ count: number; rows: MemberRow[] }> {
  const where = `WHERE m.organization_id = $1
      AND ($2::text IS NULL OR lower(u.email) = lower($2))
      AND ($3::text IS NULL OR u.email ILIKE $3 OR u.first_name ILIKE $3 OR u.last_name ILIKE $3)`;
  const search = filter.search ? `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const params = [organizationId, filter.email ?? null, search];
  const [total] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM organization_memberships m JOIN users u ON u.id = m.user_id ${where}`, params);
  const rows = await q.query<MemberRow>(`${MEMBER_SELECT} ${where} ORDER BY m.joined_at, m.id LIMIT $4 OFFSET $5`, [...params, filter.limit, filter.offset]);
  return { count: total?.n ?? 0, rows: rows.map(fixUserDates) };
}

/** row_to_json turns timestamps into strings; give callers the same types as a plain SELECT. */
function fixUserDates(row: MemberRow): MemberRow {
  const u = row.user as unknown as Record<string, unknown>;
  return {
    ...row,
    user: {
      ...row.user,
      last_login: u.last_login ? new Date(u.last_login as string) : null,
      date_joined: new Date(u.date_joined as string),
    },
  };
}

/** A member of the organization by user uuid (`@me` = the actor). */
export async function targetMembership(tx: Queryable, organizationId: string, userUuid: string, actorId: number): Promise<MemberRow> {
  const rows =
    userUuid === '@me'
      ? await tx.query<MemberRow>(`${MEMBER_SELECT} WHERE m.organization_id = $1 AND u.id = $2`, [organizationId, actorId])
      : isUuid(userUuid)
        ? await tx.query<MemberRow>(`${MEMBER_SELECT} WHERE m.organization_id = $1 AND u.uuid = $2`, [organizationId, userUuid])
        : [];
  const row = rows[0];
  if (!row) throw notFound();
  return fixUserDates(row);
}

async function assertOwnerRemains(tx: Queryable, organizationId: string): Promise<void> {
  if ((await countOwners(tx, organizationId)) < 1) throw validation(LAST_OWNER, 'level');
}

/**
 * Changes a member's level. With `terms` carrying an expiry, the change is a raise (above the lasting
 * level, to Admin at most: an owner that could lapse would leave an organization without one) that
 * falls back to the lasting level at expiry (migration 0015); without an expiry the level is lasting
 * and replaces any raise.
 */
export async function updateMemberLevel(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  userUuid: string,
  level: unknown,
  terms?: GrantTerms,
): Promise<MemberRow> {
  const organization = await lockOrganization(tx, organizationId);
  await sweepOrganization(tx, organizationId);
  const requester = await requireMembership(tx, organizationId, actor.userId);
  const target = await targetMembership(tx, organizationId, userUuid, actor.userId);
  if (!isOrganizationLevel(level)) throw validation(`"${String(level)}" is not a valid choice.`, 'level', 'invalid_choice');
  const denial = membershipUpdateDenial(facts(requester), facts(target), level);
  if (denial) throw permissionDenied(denial);
  const lasting = target.level_after_expiry ?? target.level;
  const expiresAt = terms?.expiresAt ?? null;
  const reason = terms ? terms.reason : target.level_reason;
  if (expiresAt !== null) {
    if (level <= lasting) throw validation(`Only a raise above the member's lasting level (${lasting}) can expire.`, 'expires_at');
    if (level === OrganizationLevel.OWNER) throw validation(RAISE_TO_OWNER, 'expires_at');
  }
  // A raise above the lasting level touches every project: with a production cap it must expire within it.
  if (level > lasting) await checkGrantTerms(tx, organizationId, terms ?? LASTING, { organizationWide: true });
  if (level === target.level && target.level_expires_at === null && expiresAt === null && reason === target.level_reason) return target;
  if (expiresAt === null) {
    await tx.query(
      `UPDATE organization_memberships_stored SET level = $2, raised_level = NULL, level_expires_at = NULL, level_reason = $3, updated_at = now()
        WHERE id = $1`,
      [target.id, level, reason],
    );
  } else {
    await tx.query(`UPDATE organization_memberships_stored SET raised_level = $2, level_expires_at = $3, level_reason = $4, updated_at = now() WHERE id = $1`, [
      target.id,
      level,
      expiresAt,
      reason,
    ]);
  }
  const [updated] = await tx.query<MembershipRecord>('SELECT * FROM organization_memberships WHERE id = $1', [target.id]);
  await assertOwnerRemains(tx, organizationId);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'member_level_changed',
    itemId: target.id,
    detail: {
      name: `${displayName(target.user)} (${target.user.email}) membership updated in ${organization.name}`,
      changes: [{ type: 'OrganizationMembership', action: 'changed', field: 'level', before: target.level, after: level }],
      context: {
        ...membershipContext(organization, target.user, level),
        ...(terms ? { expires_at: expiresAt, reason, lasting_level: expiresAt ? lasting : level } : {}),
      },
    },
  });
  return { ...updated!, user: target.user };
}

export const RAISE_TO_OWNER = 'An owner cannot be time-bound: raise to Admin at most, or make the owner lasting.';

/** Removes a member, or lets the actor leave (`@me` or their own uuid). */
export async function removeMember(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, userUuid: string): Promise<void> {
  const organization = await lockOrganization(tx, organizationId);
  const requester = await requireMembership(tx, organizationId, actor.userId);
  const target = await targetMembership(tx, organizationId, userUuid, actor.userId);
  const leaving = target.user_id === actor.userId;
  if (leaving && target.level === OrganizationLevel.OWNER) throw validation(OWNER_CANNOT_LEAVE, null);
  const denial = membershipUpdateDenial(facts(requester), facts(target));
  if (denial) throw permissionDenied(denial);
  await deleteMembership(tx, actor, organization, target, leaving ? 'member_left' : 'member_removed');
  await assertOwnerRemains(tx, organizationId);
}

/** Deletes a membership with everything that hangs on it, and logs it. */
export async function deleteMembership(
  tx: Queryable,
  actor: Actor,
  organization: OrganizationRecord,
  target: MemberRow,
  activity: 'member_left' | 'member_removed',
): Promise<void> {
  await tx.query('DELETE FROM organization_memberships WHERE id = $1', [target.id]);
  await tx.query(
    `UPDATE users SET current_organization_id = NULL, current_project_id = NULL
      WHERE id = $1 AND current_organization_id = $2`,
    [target.user_id, organization.id],
  );
  await recordActivity(tx, {
    organizationId: organization.id,
    actor,
    scope: 'Organization',
    activity,
    itemId: target.id,
    detail: {
      name: `${displayName(target.user)} (${target.user.email}) left ${organization.name}`,
      changes: [{ type: 'OrganizationMembership', action: 'deleted', field: 'level', before: target.level, after: null }],
      context: membershipContext(organization, target.user, target.level),
    },
  });
}

const facts = (m: MembershipRecord) => ({ userId: m.user_id, organizationId: m.organization_id, level: m.level });
