import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { WardenConfig } from '../config.js';
import { iterateActivity, type ActivityFilters } from '../domain/activity/activity-log.js';
import { isUuid } from '../domain/identity/users.js';
import { activityCsvHeader, activityCsvLine, activityExportEntry } from '../http/serializers/activity-log.js';
import { openForReading } from './read-only.js';

const USAGE = 'warden audit export --organization ID --out FILE [--format ndjson|csv] [--after ISO] [--before ISO] [--json]';

/**
 * `warden audit export`: an organization's whole activity log (security events included), oldest
 * first, to a file, straight from the database: the operator's copy for an auditor or a SIEM
 * backfill. Progress on a terminal; one JSON summary line with --json.
 */
export async function runAuditExport(config: WardenConfig, flags: Record<string, string>): Promise<number> {
  const organizationId = flags.organization;
  const out = flags.out;
  const format = flags.format ?? 'ndjson';
  if (!organizationId || !isUuid(organizationId) || !out || out === 'true' || (format !== 'ndjson' && format !== 'csv')) {
    console.error(`warden audit export: usage: ${USAGE}`);
    return 2;
  }
  const filters: ActivityFilters = {};
  for (const bound of ['after', 'before'] as const) {
    const value = flags[bound];
    if (value === undefined) continue;
    if (Number.isNaN(Date.parse(value))) {
      console.error(`warden audit export: --${bound} must be a date or time (ISO 8601), not "${value}"`);
      return 2;
    }
    filters[bound] = new Date(value).toISOString();
  }
  const progress = !flags.json && process.stderr.isTTY;
  const db = await openForReading(
    config,
    'warden audit export',
    "GET /api/organizations/:id/activity_log/export/?format=ndjson|csv (an admin's session or key with activity_log:read).",
  );
  if (!db) return 1;
  const file = createWriteStream(out, { mode: 0o600 });
  let entries = 0;
  try {
    const area = { kind: 'organization', organizationId, projectIds: null, includeSecurity: true } as const;
    if (format === 'csv') file.write(activityCsvHeader());
    for await (const row of iterateActivity(db, area, filters, 1000)) {
      const line = format === 'csv' ? activityCsvLine(row) : `${JSON.stringify(activityExportEntry(row))}\n`;
      if (!file.write(line)) await once(file, 'drain');
      entries += 1;
      if (progress && entries % 10_000 === 0) process.stderr.write(`\rexported ${entries} entries`);
    }
    file.end();
    await once(file, 'finish');
    if (progress) process.stderr.write('\r');
    const summary = { organization_id: organizationId, file: out, format, entries };
    console.log(flags.json ? JSON.stringify(summary) : `Exported ${entries} entries of ${organizationId} to ${out} (${format}).`);
    return 0;
  } finally {
    await db.close();
  }
}
