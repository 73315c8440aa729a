import type { Database } from '../../store/database.js';
import { validation } from '../errors.js';
import { verifyPassword } from './passwords.js';
import type { UserRecord } from '../records.js';
import { emailDomain, recordSecurityEvent, type SecurityLog } from '../activity/security-events.js';
import { startSessionOrSecondStep, type LoginOutcome } from './second-factor-login.js';
import type { SessionOrigin } from './sessions.js';
import { findUserByEmail } from './users.js';
import { assertPasswordAuthAllowed } from '../sso/sso-domains.js';

export const INVALID_CREDENTIALS = 'Invalid email or password.';

/** Password login. Unknown accounts cost the same as wrong passwords, and get the same answer. */
export async function logIn(db: Database, email: string, password: string, log?: SecurityLog, origin: SessionOrigin = {}): Promise<LoginOutcome> {
  const user = await findUserByEmail(db, email.trim());
  await refuseIfSsoEnforced(db, email, user, log);
  const ok = await verifyPassword(user?.is_active ? user.password_hash : null, password);
  if (!user || !ok) {
    // A security event, never the password; the address itself only when the account exists.
    await recordLoginFailure(db, email, user, 'invalid_credentials', log);
    throw validation(INVALID_CREDENTIALS, null, 'invalid_credentials');
  }
  return startSessionOrSecondStep(db, user, origin);
}

/** A domain that enforces SSO takes no password logins (PostHog's check, made before the password's). */
async function refuseIfSsoEnforced(db: Database, email: string, user: UserRecord | undefined, log?: SecurityLog): Promise<void> {
  try {
    await assertPasswordAuthAllowed(db, email.trim());
  } catch (err) {
    await recordLoginFailure(db, email, user, 'sso_enforced', log);
    throw err;
  }
}

/** A refused password login as a security event: never the password, the address only when the account exists. */
async function recordLoginFailure(
  db: Database,
  email: string,
  user: UserRecord | undefined,
  reason: 'invalid_credentials' | 'sso_enforced',
  log?: SecurityLog,
): Promise<void> {
  await recordSecurityEvent(
    db,
    {
      activity: 'login_failed',
      organizationId: user?.current_organization_id ?? null,
      userId: user?.id ?? null,
      itemId: user?.id ?? null,
      context: { email_domain: emailDomain(email), reason, ...(user && reason === 'invalid_credentials' ? { email: user.email } : {}) },
    },
    log,
  );
}
