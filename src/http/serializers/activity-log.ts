import type { ActivityRow } from '../../domain/activity/activity-log.js';

/** PostHog's ActivityLogSerializer shape. `user` is null for system entries and deleted users. */
export function activityEntry(row: ActivityRow) {
  return {
    id: row.id,
    user: row.user
      ? {
          id: row.user.id,
          uuid: row.user.uuid,
          distinct_id: row.user.distinct_id,
          first_name: row.user.first_name,
          last_name: row.user.last_name,
          email: row.user.email,
        }
      : null,
    unread: false,
    organization_id: row.organization_id,
    was_impersonated: row.was_impersonated,
    is_system: row.is_system,
    activity: row.activity,
    item_id: row.item_id,
    scope: row.scope,
    detail: row.detail,
    created_at: row.created_at.toISOString(),
  };
}

/** The export's NDJSON record: the API entry plus the project (team) it belongs to. */
export function activityExportEntry(row: ActivityRow) {
  return { ...activityEntry(row), team_id: row.team_id };
}

const CSV_COLUMNS = [
  'id',
  'created_at',
  'organization_id',
  'team_id',
  'user_id',
  'user_uuid',
  'user_email',
  'is_system',
  'was_impersonated',
  'scope',
  'activity',
  'item_id',
  'detail',
] as const;

/**
 * RFC 4180: quote a field holding a quote, comma, CR or LF; double the quotes inside. Text that a
 * spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading single quote
 * (OWASP's CSV injection advice): entries hold user-chosen names.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const activityCsvHeader = () => `${CSV_COLUMNS.join(',')}\r\n`;

export function activityCsvLine(row: ActivityRow): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null> = {
    id: row.id,
    created_at: row.created_at.toISOString(),
    organization_id: row.organization_id,
    team_id: row.team_id,
    user_id: row.user?.id ?? null,
    user_uuid: row.user?.uuid ?? null,
    user_email: row.user?.email ?? null,
    is_system: row.is_system,
    was_impersonated: row.was_impersonated,
    scope: row.scope,
    activity: row.activity,
    item_id: row.item_id,
    detail: JSON.stringify(row.detail),
  };
  return `${CSV_COLUMNS.map((c) => csvField(values[c])).join(',')}\r\n`;
}
