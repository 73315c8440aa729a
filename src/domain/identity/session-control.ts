import { membershipUpdateDenial } from '../../access/membership-rules.js';
import type { Database, Queryable } from '../../store/database.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { targetMembership } from '../organizations/members.js';
import { lockOrganization, requireMembership } from '../organizations/organizations.js';
import type { UserRecord } from '../records.js';
import { recordSecurityEvent, type SecurityLog } from '../activity/security-events.js';
import { deleteOtherSessions } from './sessions.js';
import { sha256Hex } from './tokens.js';

/**
 * Session control: a person lists their own sessions and ends any or all others; an organization
 * admin ends every session of a member at or below their own level (PostHog's rule for editing
 * members). Each change writes the activity log in its transaction; a refused attempt on someone
 * else's session is a security event.
 */
export interface SessionView {
  id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ip_address: string | null;
  user_agent: string | null;
  auth_method: string;
  second_factor: string | null;
  is_current: boolean;
}

export async function listOwnSessions(q: Queryable, userId: number, currentToken: string | null): Promise<SessionView[]> {
  const rows = await q.query<Omit<SessionView, 'is_current'> & { id_hash: string }>(
    `SELECT id::text AS id, id_hash, created_at, last_seen_at, expires_at, ip_address, user_agent, auth_method, second_factor
       FROM sessions WHERE user_id = $1 AND expires_at > now() ORDER BY last_seen_at DESC, created_at DESC`,
    [userId],
  );
  const currentHash = currentToken === null ? null : sha256Hex(currentToken);
  return rows.map(({ id_hash, ...row }) => ({ ...row, is_current: id_hash === currentHash }));
}

async function recordSessionsEnded(
  tx: Queryable,
  actor: Actor,
  organizationId: string | null,
  user: Pick<UserRecord, 'id' | 'email'>,
  activity: string,
  context: Record<string, unknown>,
) {
  if (!organizationId) return;
  await recordActivity(tx, { organizationId, actor, scope: 'User', activity, itemId: user.id, detail: { name: user.email, context } });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ends one of the person's own sessions (the current one too: that is logging out). */
export async function endOwnSession(db: Database, actor: Actor, user: UserRecord, sessionId: string, log?: SecurityLog): Promise<void> {
  const owner = UUID.test(sessionId) ? (await db.query<{ user_id: number }>('SELECT user_id FROM sessions WHERE id = $1', [sessionId]))[0] : undefined;
  if (owner && owner.user_id !== user.id) {
    // Someone else's session: not found for the caller, and recorded.
    await recordSecurityEvent(
      db,
      {
        activity: 'session_end_denied',
        organizationId: user.current_organization_id,
        userId: user.id,
        itemId: owner.user_id,
        context: { session_id: sessionId },
      },
      log,
    );
  }
  if (!owner || owner.user_id !== user.id) throw notFound();
  await db.transaction(async (tx) => {
    const ended = await tx.query('DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING 1', [sessionId, user.id]);
    if (ended.length === 0) throw notFound();
    await recordSessionsEnded(tx, actor, user.current_organization_id, user, 'session_ended', { session_id: sessionId });
  });
}

/** Ends every other session of the person (all of them when called with a key: no current session). */
export async function endOtherSessions(tx: Queryable, actor: Actor, user: UserRecord, keepToken: string | null): Promise<number> {
  const ended = await deleteOtherSessions(tx, user.id, keepToken);
  await recordSessionsEnded(tx, actor, user.current_organization_id, user, 'other_sessions_ended', { sessions_ended: ended });
  return ended;
}

/** An admin ends every session of a member at or below their own level (not above: an Admin cannot end an Owner's). */
export async function endMemberSessions(db: Database, actor: Actor & { userId: number }, organizationId: string, userUuid: string): Promise<number> {
  let denied: string | null = null;
  const ended = await db.transaction(async (tx) => {
    const organization = await lockOrganization(tx, organizationId);
    const requester = await requireMembership(tx, organizationId, actor.userId);
    const target = await targetMembership(tx, organizationId, userUuid, actor.userId);
    if (target.user.is_service_account) throw validation('Service accounts have no sessions.', null, 'service_account');
    const denial = membershipUpdateDenial(
      { userId: requester.user_id, organizationId, level: requester.level },
      { userId: target.user_id, organizationId, level: target.level },
    );
    if (denial) {
      denied = denial;
      return 0;
    }
    const rows = await tx.query('DELETE FROM sessions WHERE user_id = $1 RETURNING 1', [target.user_id]);
    await recordActivity(tx, {
      organizationId,
      actor,
      scope: 'Organization',
      activity: 'member_sessions_ended',
      itemId: target.id,
      detail: {
        name: `${target.user.email} signed out of every session in ${organization.name}`,
        context: { sessions_ended: rows.length, user_id: target.user_id },
      },
    });
    return rows.length;
  });
  // A refusal is recorded as an access_denied security event where every refusal is (src/http/refusals.ts).
  if (denied) throw permissionDenied(denied);
  return ended;
}
