import { isOrganizationLevel, OrganizationLevel } from '../../access/levels.js';
import { inviteDenial, inviteReplacementDenial } from '../../access/membership-rules.js';
import type { Queryable } from '../../store/database.js';
import { qb, row, rows } from '../../store/query-builder.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { addMembership, findMembership, lockOrganization, requireMembership } from './organizations.js';
import type { InviteRecord, OrganizationRecord, UserRecord } from '../records.js';
import { findUserByEmail, isUuid, normalizeEmail, setCurrentContext } from '../identity/users.js';

/** PostHog's INVITE_DAYS_VALIDITY. */
export const INVITE_VALIDITY_DAYS = 3;

export const isExpired = (invite: InviteRecord, now = new Date()) => invite.expires_at.getTime() <= now.getTime();

export async function listInvites(q: Queryable, organizationId: string): Promise<InviteRecord[]> {
  return rows(q, qb.selectFrom('organization_invites').selectAll().where('organization_id', '=', organizationId).orderBy('created_at', 'desc').orderBy('id'));
}

export interface NewInvite {
  target_email: string;
  level?: number;
  first_name?: string;
  message?: string | null;
}

export async function createInvite(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, input: NewInvite): Promise<InviteRecord> {
  const organization = await lockOrganization(tx, organizationId);
  const inviter = await requireMembership(tx, organizationId, actor.userId);
  const email = normalizeEmail(input.target_email, 'target_email');
  const level = input.level ?? OrganizationLevel.MEMBER;
  if (!isOrganizationLevel(level)) throw validation(`"${String(level)}" is not a valid choice.`, 'level', 'invalid_choice');
  const denial = inviteDenial(inviter.level, level, organization.members_can_invite);
  if (denial) throw permissionDenied(denial);
  const existing = await findUserByEmail(tx, email);
  if (existing && (await findMembership(tx, organizationId, existing.id))) {
    throw validation('A user with this email address already belongs to the organization.', 'target_email');
  }
  // A new invite for the same address replaces the pending one, if the inviter could have made it.
  const pending = await tx.query<{ level: number }>(
    'SELECT level FROM organization_invites WHERE organization_id = $1 AND lower(target_email) = lower($2) AND expires_at > now()',
    [organizationId, email],
  );
  for (const invite of pending) {
    const replacement = inviteReplacementDenial(inviter.level, invite.level);
    if (replacement) throw permissionDenied(replacement);
  }
  await tx.query('DELETE FROM organization_invites WHERE organization_id = $1 AND lower(target_email) = lower($2)', [organizationId, email]);
  const [invite] = await tx.query<InviteRecord>(
    `INSERT INTO organization_invites (organization_id, target_email, first_name, level, message, created_by_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7)) RETURNING *`,
    [organizationId, email, input.first_name ?? '', level, input.message ?? null, actor.userId, INVITE_VALIDITY_DAYS],
  );
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'member_invited',
    itemId: invite!.id,
    detail: {
      name: email,
      changes: [{ type: 'OrganizationInvite', action: 'created', field: 'level', before: null, after: level }],
      context: { organization_name: organization.name, target_email: email, level },
    },
  });
  return invite!;
}

export async function deleteInvite(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, inviteId: string): Promise<void> {
  const organization = await lockOrganization(tx, organizationId);
  const requester = await requireMembership(tx, organizationId, actor.userId);
  const invite = isUuid(inviteId)
    ? await row(tx, qb.selectFrom('organization_invites').selectAll().where('id', '=', inviteId).where('organization_id', '=', organizationId))
    : undefined;
  if (!invite) throw notFound();
  const denial = inviteDenial(requester.level, invite.level, organization.members_can_invite);
  if (denial) throw permissionDenied(denial);
  await tx.query('DELETE FROM organization_invites WHERE id = $1', [invite.id]);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'member_invite_deleted',
    itemId: invite.id,
    detail: {
      name: invite.target_email,
      changes: [{ type: 'OrganizationInvite', action: 'deleted' }],
      context: { organization_name: organization.name, target_email: invite.target_email, level: invite.level },
    },
  });
}

/** The invite with its organization, for the pre-sign-up check and acceptance. */
export async function findInvite(q: Queryable, inviteId: string): Promise<(InviteRecord & { organization_name: string }) | undefined> {
  if (!isUuid(inviteId)) return undefined;
  return row(
    q,
    qb
      .selectFrom('organization_invites as i')
      .innerJoin('organizations as o', 'o.id', 'i.organization_id')
      .selectAll('i')
      .select('o.name as organization_name')
      .where('i.id', '=', inviteId),
  );
}

export function assertInviteUsable(invite: InviteRecord | undefined, email?: string): asserts invite is InviteRecord {
  if (!invite) throw validation('The provided invite ID is not valid.', null, 'invalid_invite');
  if (isExpired(invite)) throw validation('This invite has expired. Please ask your admin for a new one.', null, 'expired');
  if (email !== undefined && email.toLowerCase() !== invite.target_email.toLowerCase()) {
    throw validation('This invite is intended for another email address.', null, 'invalid_recipient');
  }
}

/** Turns an invite into a membership for `user` and consumes it. */
export async function acceptInvite(tx: Queryable, user: UserRecord, inviteId: string): Promise<OrganizationRecord> {
  const invite = isUuid(inviteId) ? await row(tx, qb.selectFrom('organization_invites').selectAll().where('id', '=', inviteId).forUpdate()) : undefined;
  assertInviteUsable(invite, user.email);
  const organization = await lockOrganization(tx, invite.organization_id);
  if (await findMembership(tx, organization.id, user.id)) {
    throw validation('User already is a member of the organization.', null, 'user_already_member');
  }
  const actor: Actor = { userId: user.id, isSystem: false };
  await addMembership(tx, actor, organization, user, invite.level, 'invite');
  await tx.query('DELETE FROM organization_invites WHERE id = $1', [invite.id]);
  const [firstProject] = await tx.query<{ id: number }>('SELECT id FROM projects WHERE organization_id = $1 AND access_control = false ORDER BY id LIMIT 1', [
    organization.id,
  ]);
  await setCurrentContext(tx, user.id, organization.id, firstProject?.id ?? null);
  return organization;
}
