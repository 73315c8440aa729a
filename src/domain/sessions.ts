import { readThrough } from '../cache/read-through.js';
import type { Queryable } from '../store/database.js';
import type { UserRecord } from './records.js';
import { randomBase62, sha256Hex } from './tokens.js';

/** Django's default session age, which PostHog keeps: two weeks. */
export const SESSION_TTL_SECONDS = 14 * 24 * 3600;

export interface Session {
  /** The secret for the cookie; only its hash is stored. */
  token: string;
  csrfToken: string;
}

/** How a session was opened: password sessions of a domain's users end when it enforces SSO. */
export type AuthMethod = 'password' | 'saml' | 'oidc';

export async function createSession(tx: Queryable, userId: number, authMethod: AuthMethod = 'password'): Promise<Session> {
  const token = randomBase62(43);
  const csrfToken = randomBase62(32);
  await tx.query(
    `INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, auth_method)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)`,
    [sha256Hex(token), userId, csrfToken, SESSION_TTL_SECONDS, authMethod],
  );
  await tx.query('UPDATE users SET last_login = now() WHERE id = $1', [userId]);
  return { token, csrfToken };
}

export async function findSessionUser(
  q: Queryable,
  token: string,
): Promise<{ user: UserRecord; csrfToken: string } | undefined> {
  const idHash = sha256Hex(token);
  const session = await readThrough(
    q,
    'session',
    idHash,
    async () => {
      const [row] = await q.query<UserRecord & { session_csrf_token: string; session_expires_at: Date }>(
        `SELECT u.*, s.csrf_token AS session_csrf_token, s.expires_at AS session_expires_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id_hash = $1 AND s.expires_at > now() AND u.is_active`,
        [idHash],
      );
      if (!row) return undefined;
      const { session_csrf_token, session_expires_at, ...user } = row;
      return { user, csrfToken: session_csrf_token, expiresAt: new Date(session_expires_at).getTime() };
    },
    ({ user }) => [`user:${user.id}`],
  );
  // A remembered session still ends on time.
  if (!session || session.expiresAt <= Date.now()) return undefined;
  return { user: session.user, csrfToken: session.csrfToken };
}

export async function deleteSession(q: Queryable, token: string): Promise<void> {
  await q.query('DELETE FROM sessions WHERE id_hash = $1', [sha256Hex(token)]);
}

/** After a password change: every other session of the user ends (Django's session auth hash does this). */
export async function deleteOtherSessions(q: Queryable, userId: number, keepToken: string | null): Promise<void> {
  await q.query('DELETE FROM sessions WHERE user_id = $1 AND id_hash IS DISTINCT FROM $2', [
    userId,
    keepToken === null ? null : sha256Hex(keepToken),
  ]);
}
