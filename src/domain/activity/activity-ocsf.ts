import type { ActivityRow } from './activity-log.js';
import { SECURITY_SCOPE } from './security-events.js';

/**
 * Activity-log entries as OCSF events (Open Cybersecurity Schema Framework, https://schema.ocsf.io),
 * for SIEMs polling the advanced activity log with `schema=ocsf`. Three classes:
 * - Authentication (3002, category 3 Identity & Access Management): refused sign-ins and key,
 *   SCIM-token and second-factor failures (Warden records refusals only, not successful sign-ins);
 * - Account Change (3001, category 3): an account or membership made, disabled, removed, given or
 *   relieved of a level or role, a second factor added or removed;
 * - API Activity (6003, category 6 Application Activity): everything else (changes to flags,
 *   dashboards, keys, rules, …, and the guard's refusals).
 * type_uid = class_uid * 100 + activity_id, as OCSF defines it.
 */
export const OCSF_VERSION = '1.5.0';
export const OCSF_PRODUCT_NAME = 'Warden';

export type OcsfClass = 3001 | 3002 | 6003;
export const OCSF_CLASSES: readonly OcsfClass[] = [3001, 3002, 6003];

const CLASS = {
  3001: { name: 'Account Change', category_uid: 3, category_name: 'Identity & Access Management' },
  3002: { name: 'Authentication', category_uid: 3, category_name: 'Identity & Access Management' },
  6003: { name: 'API Activity', category_uid: 6, category_name: 'Application Activity' },
} as const;

/** Authentication (3002): activity 1 Logon, every one a failure. */
export const AUTHENTICATION_ACTIVITIES: readonly string[] = [
  'login_failed',
  'sso_login_failed',
  'second_factor_failed',
  'api_key_auth_failed',
  'scim_auth_failed',
];

/** Account Change (3001): Warden's activity -> OCSF activity_id and its caption. */
const ACCOUNT_CHANGES: Record<string, [number, string]> = {
  user_provisioned: [1, 'Create'],
  member_joined: [1, 'Create'],
  service_account_created: [1, 'Create'],
  user_deactivated: [5, 'Disable'],
  user_deprovisioned: [5, 'Disable'],
  member_removed: [6, 'Delete'],
  member_left: [6, 'Delete'],
  service_account_deleted: [6, 'Delete'],
  member_level_changed: [7, 'Attach Policy'],
  role_assigned: [7, 'Attach Policy'],
  role_unassigned: [8, 'Detach Policy'],
  two_factor_enabled: [10, 'MFA Factor Enable'],
  passkey_added: [10, 'MFA Factor Enable'],
  two_factor_disabled: [11, 'MFA Factor Disable'],
  passkey_removed: [11, 'MFA Factor Disable'],
};
export const ACCOUNT_CHANGE_ACTIVITIES: readonly string[] = Object.keys(ACCOUNT_CHANGES);

/** The entry's OCSF class. */
export function ocsfClassOf(row: Pick<ActivityRow, 'activity' | 'scope'>): OcsfClass {
  if (row.scope === SECURITY_SCOPE && AUTHENTICATION_ACTIVITIES.includes(row.activity)) return 3002;
  if (row.activity in ACCOUNT_CHANGES) return 3001;
  return 6003;
}

/**
 * The activity names a class filter keeps, as one SQL-friendly set: `in` (only these) or `notIn`
 * (all but these). API Activity is "everything else", so a filter naming it excludes the others.
 */
export function activitiesOfClasses(classes: readonly OcsfClass[]): { in: string[] } | { notIn: string[] } {
  const named = (c: OcsfClass) => (c === 3002 ? AUTHENTICATION_ACTIVITIES : c === 3001 ? ACCOUNT_CHANGE_ACTIVITIES : []);
  if (classes.includes(6003)) {
    return { notIn: OCSF_CLASSES.filter((c) => c !== 6003 && !classes.includes(c)).flatMap((c) => [...named(c)]) };
  }
  return { in: classes.flatMap((c) => [...named(c)]) };
}

/** API Activity's activity_id from the verb the entry names (OCSF: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other). */
function apiActivity(row: ActivityRow): [number, string] {
  const context = contextOf(row);
  const verb = row.scope === SECURITY_SCOPE ? String(context.method ?? '') : row.activity;
  if (/^(POST)$|created|added|invited|linked/.test(verb)) return [1, 'Create'];
  if (/^(GET|HEAD)$|viewed|listed|queried|exported|^read/.test(verb)) return [2, 'Read'];
  if (/^(PATCH|PUT)$|updated|changed|rolled|renamed|^(enabled|disabled)$|restored/.test(verb)) return [3, 'Update'];
  if (/^(DELETE)$|deleted|removed|revoked|pruned|ended/.test(verb)) return [4, 'Delete'];
  return [99, 'Other'];
}

const contextOf = (row: ActivityRow): Record<string, unknown> => {
  const context = (row.detail as { context?: unknown } | null)?.context;
  return context && typeof context === 'object' ? (context as Record<string, unknown>) : {};
};
const nameOf = (row: ActivityRow): string | null => {
  const name = (row.detail as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : null;
};
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** OCSF's User object for Warden's user (uid = the user's UUID). */
function ocsfUser(user: NonNullable<ActivityRow['user']>) {
  const name = `${user.first_name} ${user.last_name}`.trim();
  return { uid: user.uuid, name: name || user.email, email_addr: user.email, type_id: 1, type: 'User' };
}

/** Who acted: the user, else Warden itself (system entries and anonymous refusals). */
function ocsfActor(row: ActivityRow) {
  return row.user ? { user: ocsfUser(row.user) } : { app_name: OCSF_PRODUCT_NAME };
}

/** The user an Account Change or Authentication is about: the subject named in the context, else the actor. */
function subjectUser(row: ActivityRow) {
  const context = contextOf(row);
  const uuid = text(context.user_uuid) ?? text(context.target_user_uuid);
  const email = text(context.user_email) ?? text(context.email) ?? text(context.target_email);
  if (uuid || email) return { ...(uuid ? { uid: uuid } : {}), name: email ?? uuid!, ...(email ? { email_addr: email } : {}) };
  if (row.user) return ocsfUser(row.user);
  return { name: text(context.email_domain) ? `unknown user at ${String(context.email_domain)}` : 'unknown user' };
}

/**
 * One entry as an OCSF event. The entry must already be what the reader may see (redacted by
 * src/domain/activity/activity-visibility.ts): a redacted entry's detail is null, and so are the parts of the
 * event made from it. Warden records no client addresses, so src_endpoint names no IP.
 */
export function toOcsf(row: ActivityRow, productVersion: string): Record<string, unknown> {
  const classUid = ocsfClassOf(row);
  const cls = CLASS[classUid];
  const context = contextOf(row);
  const failed = row.scope === SECURITY_SCOPE;
  const [activityId, activityName] = classUid === 3002 ? [1, 'Logon'] : classUid === 3001 ? ACCOUNT_CHANGES[row.activity]! : apiActivity(row);
  const time = row.created_at.getTime();
  const requestId = text(context.request_id);
  const event: Record<string, unknown> = {
    class_uid: classUid,
    class_name: cls.name,
    category_uid: cls.category_uid,
    category_name: cls.category_name,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    type_name: `${cls.name}: ${activityName}`,
    severity_id: failed ? 3 : 1,
    severity: failed ? 'Medium' : 'Informational',
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    ...(failed && text(context.reason) ? { status_detail: text(context.reason) } : {}),
    time,
    message: `${row.scope} ${row.activity}${nameOf(row) ? `: ${nameOf(row)}` : ''}`,
    metadata: {
      version: OCSF_VERSION,
      uid: row.id,
      logged_time: time,
      ...(requestId ? { correlation_uid: requestId } : {}),
      ...(row.organization_id ? { tenant_uid: row.organization_id } : {}),
      product: { name: OCSF_PRODUCT_NAME, vendor_name: OCSF_PRODUCT_NAME, version: productVersion },
      log_name: 'activity_log',
    },
    actor: ocsfActor(row),
    src_endpoint: { name: text(context.principal) ?? (text(context.via_api_key_id) ? 'personal_api_key' : row.is_system ? 'system' : 'unrecorded') },
    unmapped: {
      scope: row.scope,
      activity: row.activity,
      item_id: row.item_id,
      team_id: row.team_id,
      organization_id: row.organization_id,
      was_impersonated: row.was_impersonated,
      is_system: row.is_system,
      detail: row.detail,
    },
  };
  if (classUid === 6003) {
    const operation = failed ? `${String(context.method ?? 'REQUEST')} ${String(context.route ?? '')}`.trim() : `${row.scope}.${row.activity}`;
    event.api = { operation, ...(requestId ? { request: { uid: requestId } } : {}) };
    if (row.item_id !== null || !failed) {
      event.resources = [{ uid: row.item_id ?? '', type: row.scope, ...(nameOf(row) ? { name: nameOf(row) } : {}) }];
    }
  } else {
    event.user = subjectUser(row);
  }
  if (classUid === 3002) {
    event.service = { name: OCSF_PRODUCT_NAME };
    event.is_mfa = row.activity === 'second_factor_failed';
  }
  return event;
}
