import type { Database } from '../../store/database.js';
import { recordActivity } from '../activity/activity.js';
import { userActor } from '../actor.js';
import { DomainError, validation } from '../errors.js';
import type { Limit } from './rate-limits.js';
import type { UserRecord } from '../records.js';
import { recordSecurityEvent, type SecurityLog } from '../activity/security-events.js';
import { createSession, type Session, type SessionOrigin } from './sessions.js';
import { randomBase62, sha256Hex } from './tokens.js';
import { SecondFactorRejected, verifySecondFactor, INVALID_CODE } from './two-factor.js';
import { findUserById } from './users.js';
import { hasSecondFactor } from './second-factor-rule.js';

/**
 * Login in two steps where a second factor is set (PostHog's shape): the password step answers
 * 401 `2fa_required` and remembers the half-done login (a cookie naming a pending login, ten minutes),
 * the second step (`POST /api/login/token/ {token}`) takes an authenticator or backup code.
 */
export const PENDING_LOGIN_SECONDS = 600;
export const LOGIN_EXPIRED = 'Login attempt has expired. Re-enter username/password.';

/** Wrong codes count like wrong passwords: per address, and per (account, address). */
export const SECOND_FACTOR_LIMITS = {
  perAddress: { bucket: '2fa_ip', max: 30, windowSeconds: 900 },
  perAccount: { bucket: '2fa_account_ip', max: 5, windowSeconds: 900 },
} as const satisfies Record<string, Limit>;

export const secondFactorRequired = () => new DomainError('authentication_failed', '2FA is required.', '2fa_required');

export type LoginOutcome = { kind: 'session'; user: UserRecord; session: Session } | { kind: 'second_factor_required'; user: UserRecord; pendingToken: string };

/** After the password step: a session, or a pending login waiting for the second factor. */
export async function startSessionOrSecondStep(db: Database, user: UserRecord, origin: SessionOrigin): Promise<LoginOutcome> {
  if (!(await hasSecondFactor(db, user.id))) {
    const session = await db.transaction((tx) => createSession(tx, user.id, 'password', origin));
    return { kind: 'session', user, session };
  }
  const pendingToken = randomBase62(32);
  await db.query(`INSERT INTO pending_logins (id_hash, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`, [
    sha256Hex(pendingToken),
    user.id,
    PENDING_LOGIN_SECONDS,
  ]);
  // Old pending logins go as new ones arrive.
  await db.query("DELETE FROM pending_logins WHERE expires_at < now() - interval '1 hour'");
  return { kind: 'second_factor_required', user, pendingToken };
}

/** The user a pending login belongs to, if it has not expired. */
export async function pendingLoginUser(db: Database, pendingToken: string | undefined): Promise<UserRecord> {
  const [row] = pendingToken
    ? await db.query<{ user_id: number }>('SELECT user_id FROM pending_logins WHERE id_hash = $1 AND expires_at > now()', [sha256Hex(pendingToken)])
    : [];
  const user = row ? await findUserById(db, row.user_id) : undefined;
  if (!user?.is_active) throw validation(LOGIN_EXPIRED, null, '2fa_expired');
  return user;
}

/** The second step: a valid code opens the session and uses the pending login up. Wrong codes are security events. */
export async function completeSecondStep(
  db: Database,
  pendingToken: string,
  user: UserRecord,
  code: string,
  origin: SessionOrigin,
  log?: SecurityLog,
): Promise<Session> {
  try {
    return await db.transaction(async (tx) => {
      const used = await tx.query('DELETE FROM pending_logins WHERE id_hash = $1 AND expires_at > now() RETURNING 1', [sha256Hex(pendingToken)]);
      if (used.length === 0) throw validation(LOGIN_EXPIRED, null, '2fa_expired');
      const factor = await verifySecondFactor(tx, user.id, code);
      if (factor === 'backup_code' && user.current_organization_id) {
        await recordActivity(tx, {
          organizationId: user.current_organization_id,
          actor: userActor(user.id),
          scope: 'User',
          activity: 'backup_code_used',
          itemId: user.id,
          detail: { name: user.email },
        });
      }
      return createSession(tx, user.id, 'password', { ...origin, secondFactor: factor });
    });
  } catch (err) {
    if (!(err instanceof SecondFactorRejected)) throw err;
    await recordSecondFactorFailure(db, user, err.reason, 'login', log);
    throw validation(INVALID_CODE, 'token', '2fa_invalid');
  }
}

/** A refused second-factor code (login, set-up, disabling) as a security event; never the code. */
export async function recordSecondFactorFailure(
  db: Database,
  user: UserRecord,
  reason: SecondFactorRejected['reason'],
  during: 'login' | 'setup' | 'disable' | 'backup_codes',
  log?: SecurityLog,
): Promise<void> {
  await recordSecurityEvent(
    db,
    {
      activity: 'second_factor_failed',
      organizationId: user.current_organization_id,
      userId: user.id,
      itemId: user.id,
      context: { reason, during, email: user.email },
    },
    log,
  );
}

/** Opens the session of a pending login whose second factor was verified elsewhere (a passkey), using the pending login up. */
export async function completeVerifiedSecondStep(db: Database, pendingToken: string, user: UserRecord, origin: SessionOrigin): Promise<Session> {
  return db.transaction(async (tx) => {
    const used = await tx.query('DELETE FROM pending_logins WHERE id_hash = $1 AND user_id = $2 AND expires_at > now() RETURNING 1', [
      sha256Hex(pendingToken),
      user.id,
    ]);
    if (used.length === 0) throw validation(LOGIN_EXPIRED, null, '2fa_expired');
    return createSession(tx, user.id, 'password', { ...origin, secondFactor: 'passkey' });
  });
}

/** Whether a pending login's cookie names a live pending login (the passkey step then is a second factor). */
export async function pendingLoginUserOrNull(db: Database, pendingToken: string | undefined): Promise<UserRecord | null> {
  if (!pendingToken) return null;
  try {
    return await pendingLoginUser(db, pendingToken);
  } catch (err) {
    if (err instanceof DomainError) return null;
    throw err;
  }
}
