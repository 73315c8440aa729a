import { EventEmitter } from 'node:events';
import type { Database } from '../../store/database.js';
import { recordActivity } from './activity.js';

/**
 * Security events: failed logins, failed key authentications and denials decided by the guard.
 * They are activity-log entries in their own scope, `Security`, written in their own small
 * transaction: they describe no state change, so they never roll back with the request they were
 * rejected in, and writing one never fails that request (an error is logged and the request goes on).
 * Secrets never reach them: no password, no key value (only a mask), no session id or CSRF token.
 */
export const SECURITY_SCOPE = 'Security';

export type SecurityActivity =
  | 'login_failed'
  | 'api_key_auth_failed'
  | 'access_denied'
  | 'sso_login_failed'
  | 'scim_auth_failed'
  | 'second_factor_failed'
  | 'session_end_denied'
  // Keys bound to networks and rates (docs/key-networks.md): recorded at most once a minute per key and address.
  | 'api_key_address_refused'
  | 'api_key_rate_limited';

export interface SecurityEvent {
  activity: SecurityActivity;
  /** null for instance-level events (an unknown account, an unknown key). */
  organizationId: string | null;
  teamId?: number | null;
  userId: number | null;
  itemId?: string | number | null;
  name?: string | null;
  context: Record<string, unknown>;
}

export interface SecurityLog {
  warn(obj: unknown, msg: string): void;
}

/** Emits 'recorded' with the activity of each security event written (for metrics). */
export const securityEventsRecorded = new EventEmitter();

export async function recordSecurityEvent(db: Database, event: SecurityEvent, log?: SecurityLog): Promise<void> {
  securityEventsRecorded.emit('recorded', event.activity);
  try {
    await db.transaction((tx) =>
      recordActivity(tx, {
        organizationId: event.organizationId,
        teamId: event.teamId ?? null,
        actor: { userId: event.userId, isSystem: false },
        scope: SECURITY_SCOPE,
        activity: event.activity,
        itemId: event.itemId ?? null,
        detail: { name: event.name ?? null, context: event.context },
      }),
    );
  } catch (err) {
    log?.warn({ err, activity: event.activity }, 'could not record security event');
  }
}

/** What of a presented key may be recorded: its first and last 4 characters when it is long enough to spare them. */
export function maskKeyValue(value: string): string {
  return value.length >= 16 ? `${value.slice(0, 4)}...${value.slice(-4)}` : '********';
}

/** The domain part of an email address ('' when there is none). */
export function emailDomain(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0
    ? ''
    : email
        .slice(at + 1)
        .trim()
        .toLowerCase()
        .slice(0, 253);
}
