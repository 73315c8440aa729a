import { readThrough } from '../../cache/read-through.js';
import type { Queryable } from '../../store/database.js';
import type { UserRecord } from '../records.js';
import { hasSecondFactorSql } from './second-factor-rule.js';
import { randomBase62, sha256Hex } from './tokens.js';

/** Django's default session age, which PostHog keeps: two weeks (an organization may shorten it). */
export const SESSION_TTL_SECONDS = 14 * 24 * 3600;
/** How often a session's `last_seen_at` is written (idle timeouts are at least five minutes). */
const TOUCH_AFTER_MS = 60_000;

export interface Session {
  /** The secret for the cookie; only its hash is stored. */
  token: string;
  csrfToken: string;
  /** Seconds the cookie lives (the strictest lifetime of the person's organizations). */
  maxAgeSeconds: number;
}

/** How a session was opened: password sessions of a domain's users end when it enforces SSO. */
export type AuthMethod = 'password' | 'saml' | 'oidc' | 'passkey';
/** Which second factor completed a login. */
export type SecondFactorKind = 'totp' | 'backup_code' | 'passkey';

/** Where a session was opened from, for the sessions list. */
export interface SessionOrigin {
  ip?: string | null;
  userAgent?: string | null;
  secondFactor?: SecondFactorKind | null;
}

/** The strictest session lifetime and idle timeout among the person's organizations (null: none set). */
async function sessionPolicy(tx: Queryable, userId: number): Promise<{ age: number | null; idle: number | null }> {
  const [row] = await tx.query<{ age: number | null; idle: number | null }>(
    `SELECT min(o.session_cookie_age) AS age, min(o.session_idle_timeout) AS idle
       FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1`,
    [userId],
  );
  return { age: row?.age ?? null, idle: row?.idle ?? null };
}

export async function createSession(tx: Queryable, userId: number, authMethod: AuthMethod = 'password', origin: SessionOrigin = {}): Promise<Session> {
  const token = randomBase62(43);
  const csrfToken = randomBase62(32);
  const { age } = await sessionPolicy(tx, userId);
  const maxAgeSeconds = Math.min(age ?? SESSION_TTL_SECONDS, SESSION_TTL_SECONDS);
  await tx.query(
    `INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, auth_method, ip_address, user_agent, second_factor)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5, $6, $7, $8)`,
    [sha256Hex(token), userId, csrfToken, maxAgeSeconds, authMethod, origin.ip ?? null, origin.userAgent?.slice(0, 500) ?? null, origin.secondFactor ?? null],
  );
  await tx.query('UPDATE users SET last_login = now() WHERE id = $1', [userId]);
  return { token, csrfToken, maxAgeSeconds };
}

export interface SessionUser {
  user: UserRecord;
  csrfToken: string;
  sessionId: string;
  /** A member of an organization that enforces 2FA, signed in with a password, without a second factor. */
  secondFactorSetupRequired: boolean;
}

interface SessionRow {
  session_id: string;
  session_csrf_token: string;
  session_expires_at: Date;
  session_created_at: Date;
  session_last_seen_at: Date;
  session_auth_method: AuthMethod;
  policy_age: number | null;
  policy_idle: number | null;
  enforcing: boolean;
  has_second_factor: boolean;
  org_ids: string[] | null;
}

export async function findSessionUser(q: Queryable, token: string): Promise<SessionUser | undefined> {
  const idHash = sha256Hex(token);
  const session = await readThrough(
    q,
    'session',
    idHash,
    async () => {
      const [row] = await q.query<UserRecord & SessionRow>(
        `SELECT u.*, s.id::text AS session_id, s.csrf_token AS session_csrf_token, s.expires_at AS session_expires_at,
                s.created_at AS session_created_at, s.last_seen_at AS session_last_seen_at, s.auth_method AS session_auth_method,
                pol.policy_age, pol.policy_idle, pol.enforcing, pol.org_ids, ${hasSecondFactorSql('u.id')} AS has_second_factor
           FROM sessions s JOIN users u ON u.id = s.user_id
           CROSS JOIN LATERAL (
             SELECT min(o.session_cookie_age) AS policy_age, min(o.session_idle_timeout) AS policy_idle,
                    coalesce(bool_or(o.enforce_2fa), false) AS enforcing, array_agg(o.id::text) AS org_ids
               FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = u.id) pol
          WHERE s.id_hash = $1 AND s.expires_at > now() AND u.is_active`,
        [idHash],
      );
      if (!row) return undefined;
      const {
        session_id,
        session_csrf_token,
        session_expires_at,
        session_created_at,
        session_last_seen_at,
        session_auth_method,
        policy_age,
        policy_idle,
        enforcing,
        has_second_factor,
        org_ids,
        ...user
      } = row;
      const created = new Date(session_created_at).getTime();
      const expiresAt = Math.min(new Date(session_expires_at).getTime(), policy_age ? created + policy_age * 1000 : Infinity);
      return {
        user,
        csrfToken: session_csrf_token,
        sessionId: session_id,
        expiresAt,
        lastSeenAt: new Date(session_last_seen_at).getTime(),
        idleSeconds: policy_idle,
        // SSO logins are exempt: the identity provider did the authentication.
        secondFactorSetupRequired: enforcing && !has_second_factor && session_auth_method === 'password',
        orgIds: org_ids ?? [],
      };
    },
    (s) => [`user:${s.user.id}`, ...s.orgIds.map((id) => `org:${id}`)],
  );
  // A remembered session still ends on time, and after the idle timeout.
  const now = Date.now();
  if (!session || session.expiresAt <= now) return undefined;
  if (session.idleSeconds !== null && session.lastSeenAt + session.idleSeconds * 1000 <= now) return undefined;
  if (now - session.lastSeenAt > TOUCH_AFTER_MS) {
    await q.query('UPDATE sessions SET last_seen_at = now() WHERE id_hash = $1', [idHash]);
  }
  return {
    user: session.user,
    csrfToken: session.csrfToken,
    sessionId: session.sessionId,
    secondFactorSetupRequired: session.secondFactorSetupRequired,
  };
}

export async function deleteSession(q: Queryable, token: string): Promise<void> {
  await q.query('DELETE FROM sessions WHERE id_hash = $1', [sha256Hex(token)]);
}

/** After a password or second-factor change: every other session of the user ends. Returns how many. */
export async function deleteOtherSessions(q: Queryable, userId: number, keepToken: string | null): Promise<number> {
  const rows = await q.query('DELETE FROM sessions WHERE user_id = $1 AND id_hash IS DISTINCT FROM $2 RETURNING 1', [
    userId,
    keepToken === null ? null : sha256Hex(keepToken),
  ]);
  return rows.length;
}
