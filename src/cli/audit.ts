import type { WardenConfig } from '../config.js';
import { chainedOrganizations, verifyChain, type ChainReport } from '../domain/activity/activity-chain.js';
import { readAuditKey } from '../domain/activity/activity-signing.js';
import { isUuid } from '../domain/identity/users.js';
import { runAuditExport } from './audit-export.js';
import { openForReading } from './read-only.js';

/** One line per organization: "ok: N entries" or its problems. */
export function reportLine(report: ChainReport): string {
  const pruned = report.pruned ? `, pruned up to ${report.pruned.up_to_chain_seq} (signed checkpoint of ${report.pruned.checkpoint_created_at})` : '';
  if (report.ok) return `${report.organization_id} ok: ${report.entries} entries${pruned}`;
  const problems = report.problems.map((p) =>
    p.kind === 'missing'
      ? `missing at ${p.chain_seq}${p.count && p.count > 1 ? ` (${p.count} entries)` : ''}`
      : p.kind === 'checkpoint'
        ? `checkpoint at ${p.chain_seq} rejected (${p.reason})`
        : `${p.kind} at ${p.chain_seq} (${p.id})`,
  );
  return `${report.organization_id} FAILED: ${report.entries} entries${pruned}; ${problems.join('; ')}`;
}

/** `warden audit verify [--organization ID]`: exits 0 when every chain is intact, 1 otherwise. */
export async function runAudit(config: WardenConfig, sub: string | undefined, flags: Record<string, string>): Promise<number> {
  if (sub === 'export') return runAuditExport(config, flags);
  if (sub !== 'verify') {
    console.error('warden audit: usage: warden audit verify [--organization ID] | warden audit export --organization ID --out FILE');
    return 2;
  }
  const only = flags.organization;
  if (only !== undefined && !isUuid(only)) {
    console.error('warden audit verify: --organization must be an organization id (uuid)');
    return 2;
  }
  const db = await openForReading(
    config,
    'warden audit verify',
    "GET /api/organizations/:id/activity_log/verify/ (an admin's session or key with activity_log:read).",
  );
  if (!db) return 1;
  try {
    const orgs = only ? [only.toLowerCase()] : await chainedOrganizations(db);
    const auditKey = readAuditKey(config.auditKeyFile);
    let ok = true;
    for (const org of orgs) {
      const report = await verifyChain(db, org, { auditKey });
      ok &&= report.ok;
      console.log(reportLine(report));
    }
    if (orgs.length === 0) console.log('No activity to verify.');
    return ok ? 0 : 1;
  } finally {
    await db.close();
  }
}
