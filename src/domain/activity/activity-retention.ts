import type { Database, Queryable } from '../../store/database.js';
import { recordActivity } from './activity.js';
import { chainPending, lockChain } from './activity-chain.js';
import { loadOrCreateAuditKey, signCheckpoint, type AuditKey } from './activity-signing.js';
import { systemActor } from '../actor.js';
import { validation } from '../errors.js';

/**
 * Retention per organization (`activity_log_retention_days`, null = keep everything).
 *
 * Pruning removes the oldest prefix of an organization's hash chain, in batches. Each batch, in one
 * transaction under the chain's lock: writes a signed checkpoint into activity_chain_checkpoints
 * (up_to_chain_seq, hash_at = hash of the last pruned entry, Ed25519 signature), deletes the entries
 * up to it, and records `activity_log_pruned` (is_system). verifyChain accepts the gap before the
 * first remaining entry exactly when a validly signed checkpoint covers it.
 *
 * Only chained entries are pruned, only a prefix (so the checkpoint covers everything before the
 * first remaining entry), and never an entry an enabled sink has not yet acknowledged.
 */

export const MAX_RETENTION_DAYS = 36_500;
const DEFAULT_BATCH = 5000;

export function validateRetentionDays(days: number | null | undefined): void {
  if (days === undefined || days === null) return;
  if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    throw validation(`Ensure this value is a whole number of days from 1 to ${MAX_RETENTION_DAYS}.`, 'activity_log_retention_days');
  }
}

interface Candidate {
  chain_seq: string;
  hash: string;
  expired: boolean;
  created_at: string;
}

/** Prunes one batch of one organization; returns how many entries were deleted. */
async function pruneBatch(db: Database, organizationId: string, key: () => AuditKey, batch: number): Promise<number> {
  return db.transaction(async (tx) => {
    await lockChain(tx, organizationId);
    const [org] = await tx.query<{ days: number | null }>('SELECT activity_log_retention_days AS days FROM organizations WHERE id = $1', [organizationId]);
    if (!org || org.days === null) return 0;
    const rows = await tx.query<Candidate>(
      `SELECT a.chain_seq::text AS chain_seq, a.hash, a.created_at < now() - make_interval(days => $2::int) AS expired,
              to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
       FROM activity_log a
       WHERE a.organization_id = $1 AND a.chain_seq IS NOT NULL
         AND a.chain_seq <= (SELECT coalesce(min(s.last_delivered_seq), 9223372036854775807) FROM activity_log_sinks s
                             WHERE s.organization_id = $1 AND s.enabled)
       ORDER BY a.chain_seq LIMIT $3::int`,
      [organizationId, org.days, batch],
    );
    const prefix: Candidate[] = [];
    for (const row of rows) {
      if (!row.expired) break;
      prefix.push(row);
    }
    const last = prefix.at(-1);
    if (!last) return 0;
    const upTo = Number(last.chain_seq);
    const signature = signCheckpoint(key(), { organization_id: organizationId, up_to_chain_seq: upTo, hash_at: last.hash });
    await tx.query(`INSERT INTO activity_chain_checkpoints (organization_id, up_to_chain_seq, hash_at, signature) VALUES ($1, $2, $3, $4)`, [
      organizationId,
      upTo,
      last.hash,
      signature,
    ]);
    const deleted = await tx.query<{ n: number }>(
      `WITH gone AS (DELETE FROM activity_log WHERE organization_id = $1 AND chain_seq <= $2 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [organizationId, upTo],
    );
    const count = deleted[0]?.n ?? 0;
    await recordActivity(tx, {
      organizationId,
      actor: systemActor,
      scope: 'Organization',
      activity: 'activity_log_pruned',
      itemId: organizationId,
      detail: {
        name: `${count} activity log entries older than ${org.days} days pruned`,
        context: {
          count,
          retention_days: org.days,
          from_chain_seq: Number(prefix[0]!.chain_seq),
          up_to_chain_seq: upTo,
          up_to_created_at: last.created_at,
          checkpoint_hash: last.hash,
        },
        trigger: { job_type: 'activity_log_retention' },
      },
    });
    return count;
  });
}

/** Organizations with a retention setting. */
async function organizationsWithRetention(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ id: string }>('SELECT id::text AS id FROM organizations WHERE activity_log_retention_days IS NOT NULL ORDER BY id');
  return rows.map((r) => r.id);
}

/**
 * Prunes every organization's expired entries (or one organization's), batch by batch; returns
 * how many were deleted. The signing key is loaded (created on first use) only when something is pruned.
 */
export async function pruneExpired(db: Database, keyFile: string, options: { organizationId?: string; batch?: number } = {}): Promise<number> {
  let key: AuditKey | null = null;
  const getKey = () => (key ??= loadOrCreateAuditKey(keyFile));
  const batch = options.batch ?? DEFAULT_BATCH;
  const orgs = options.organizationId ? [options.organizationId] : await organizationsWithRetention(db);
  let total = 0;
  for (const org of orgs) {
    // Entries written since the last chaining are chained first, so a full batch is not cut short.
    await chainPending(db, org);
    for (;;) {
      const n = await pruneBatch(db, org, getKey, batch);
      total += n;
      if (n === 0) break;
    }
  }
  return total;
}
