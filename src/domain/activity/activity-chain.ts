import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../store/database.js';
import { checkpointSignatureValid, type AuditKey } from './activity-signing.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Tamper evidence for the activity log. The entries of each organization form a hash chain:
 * hash = sha256(prev_hash + canonical JSON of the entry's immutable fields), chain_seq = position.
 *
 * recordActivity writes entries unchained inside the change's own transaction; chainPending links
 * committed entries afterwards (after each non-GET response and at server start), under a
 * transaction-level advisory lock per organization, so writers never contend on a chain head.
 * Entries without an organization (none are written today) are not chained.
 */

/** prev_hash of the first entry of every chain. */
export const GENESIS = '0'.repeat(64);
const BATCH = 500;

/** The immutable fields, as hashed. created_at is text with microseconds, the same on both drivers. */
const HASHED = `a.id::text AS id, a.seq::text AS seq, a.organization_id::text AS organization_id, a.team_id, a.user_id,
  a.activity, a.scope, a.item_id, a.detail, a.is_system, a.was_impersonated,
  to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at`;

interface HashedRow {
  id: string;
  seq: string;
  organization_id: string;
  team_id: number | null;
  user_id: number | null;
  activity: string;
  scope: string;
  item_id: string | null;
  detail: unknown;
  is_system: boolean;
  was_impersonated: boolean;
  created_at: string;
}

export function entryHash(prevHash: string, row: HashedRow): string {
  const fields = {
    id: row.id,
    seq: row.seq,
    organization_id: row.organization_id,
    team_id: row.team_id,
    user_id: row.user_id,
    activity: row.activity,
    scope: row.scope,
    item_id: row.item_id,
    detail: row.detail,
    is_system: row.is_system,
    was_impersonated: row.was_impersonated,
    created_at: row.created_at,
  };
  return createHash('sha256').update(prevHash).update(canonicalJson(fields)).digest('hex');
}

/** The chain's lock: chaining and pruning of one organization never run at once. */
export async function lockChain(tx: Queryable, organizationId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [organizationId]);
}

/** Chains one batch of an organization's committed, unchained entries; returns how many. */
async function chainBatch(db: Database, organizationId: string): Promise<number> {
  return db.transaction(async (tx) => {
    await lockChain(tx, organizationId);
    const rows = await tx.query<HashedRow>(
      `SELECT ${HASHED} FROM activity_log a
       WHERE a.organization_id = $1 AND a.hash IS NULL AND a.chain_seq IS NULL
       ORDER BY a.seq LIMIT ${BATCH}`,
      [organizationId],
    );
    if (rows.length === 0) return 0;
    const [head] = await tx.query<{ chain_seq: string; hash: string }>(
      'SELECT chain_seq::text AS chain_seq, hash FROM activity_chain_heads WHERE organization_id = $1',
      [organizationId],
    );
    let chainSeq = head ? Number(head.chain_seq) : 0;
    let prev = head?.hash ?? GENESIS;
    const ids: string[] = [];
    const seqs: number[] = [];
    const prevs: string[] = [];
    const hashes: string[] = [];
    for (const row of rows) {
      const hash = entryHash(prev, row);
      chainSeq += 1;
      ids.push(row.id);
      seqs.push(chainSeq);
      prevs.push(prev);
      hashes.push(hash);
      prev = hash;
    }
    // Array literals: uuids, integers and hex digests need no quoting.
    await tx.query(
      `UPDATE activity_log a SET chain_seq = v.cs, prev_hash = v.ph, hash = v.h
       FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[]) AS v(id, cs, ph, h)
       WHERE a.id = v.id`,
      [`{${ids.join(',')}}`, `{${seqs.join(',')}}`, `{${prevs.join(',')}}`, `{${hashes.join(',')}}`],
    );
    await tx.query(
      `INSERT INTO activity_chain_heads (organization_id, chain_seq, hash) VALUES ($1, $2, $3)
       ON CONFLICT (organization_id) DO UPDATE SET chain_seq = EXCLUDED.chain_seq, hash = EXCLUDED.hash`,
      [organizationId, chainSeq, prev],
    );
    return rows.length;
  });
}

/** Chains the committed, unchained entries of one organization, or of every organization that has some. */
export async function chainPending(db: Database, organizationId?: string): Promise<number> {
  const orgs = organizationId
    ? [organizationId]
    : (
        await db.query<{ organization_id: string }>(
          `SELECT DISTINCT organization_id::text AS organization_id FROM activity_log
           WHERE hash IS NULL AND organization_id IS NOT NULL`,
        )
      ).map((r) => r.organization_id);
  let chained = 0;
  for (const org of orgs) {
    for (;;) {
      const n = await chainBatch(db, org);
      chained += n;
      if (n < BATCH) break;
    }
  }
  return chained;
}

/**
 * Runs chainPending in the background, never two at once. Requests are coalesced: the first starts
 * a run after `delayMs` (so a burst of writes is chained in one pass); a request while a run is
 * under way schedules one more after it. `stop()` waits for the run in progress and makes a last pass
 * if one was pending (called before the database closes).
 */
export function backgroundChainer(db: Database, onError: (err: unknown) => void, delayMs = 250) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const run = async () => {
    timer = null;
    do {
      again = false;
      try {
        await chainPending(db);
      } catch (err) {
        onError(err);
      }
    } while (again && !stopped);
    running = null;
  };
  return {
    schedule(): void {
      if (stopped) return;
      if (running) again = true;
      else if (!timer) {
        timer = setTimeout(() => void (running = run()), delayMs);
        timer.unref();
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      const pending = timer !== null || again;
      if (timer) clearTimeout(timer);
      timer = null;
      while (running) await running;
      // A write acknowledged just before shutdown is chained now rather than at the next start.
      if (pending) await chainPending(db).catch(onError);
    },
  };
}

export type ChainProblemKind = 'modified' | 'missing' | 'reordered' | 'checkpoint';

export interface ChainProblem {
  kind: ChainProblemKind;
  chain_seq: number;
  /** The entry concerned; null for a missing one. */
  id: string | null;
  /** For 'missing': how many consecutive positions are gone (from chain_seq on). */
  count?: number;
  /** For 'checkpoint' (at its up_to_chain_seq): why the checkpoint is not accepted. */
  reason?: 'unsigned' | 'bad_signature' | 'no_key' | 'does_not_match_chain';
}

/** Retention pruning: the entries up to `up_to_chain_seq` were removed under a validly signed checkpoint. */
export interface PrunedInfo {
  up_to_chain_seq: number;
  hash_at: string;
  checkpoint_created_at: string;
}

export interface ChainReport {
  organization_id: string;
  ok: boolean;
  entries: number;
  problems: ChainProblem[];
  /** Set when the chain starts after a retention checkpoint. */
  pruned?: PrunedInfo;
}

interface ChainedRow extends HashedRow {
  chain_seq: string;
  prev_hash: string | null;
  hash: string | null;
}

/**
 * Chains pending entries, then walks the organization's chain in order:
 * - modified: an entry's recomputed hash differs from the stored one (or the stored hash was
 *   recomputed after an edit, which shows as the next entry no longer linking to it);
 * - missing: a gap in chain_seq (a deleted entry), also at the end of the chain against its head;
 * - reordered: an entry's own hash is intact but it links to another entry of the chain than its
 *   predecessor. Every broken link is reported, so two swapped neighbours at k and k+1 show at k,
 *   k+1 and k+2 (whose predecessor moved away).
 */
export async function verifyChain(db: Database, organizationId: string, options: { auditKey?: AuditKey | null } = {}): Promise<ChainReport> {
  await chainPending(db, organizationId);
  const problems: ChainProblem[] = [];
  let entries = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS;
  let prevRow: ChainedRow | null = null;
  let after = 0;
  const start = await startingCheckpoint(db, organizationId, options.auditKey ?? null, problems);
  if (start) {
    expectedSeq = start.up_to_chain_seq + 1;
    prevHash = start.hash_at;
    after = start.up_to_chain_seq;
  }
  for (;;) {
    const rows = await db.query<ChainedRow>(
      `SELECT ${HASHED}, a.chain_seq::text AS chain_seq, a.prev_hash, a.hash FROM activity_log a
       WHERE a.organization_id = $1 AND a.chain_seq > $2 ORDER BY a.chain_seq LIMIT 1000`,
      [organizationId, after],
    );
    for (const row of rows) {
      entries += 1;
      const chainSeq = Number(row.chain_seq);
      after = chainSeq;
      const gap = chainSeq !== expectedSeq;
      if (gap) problems.push({ kind: 'missing', chain_seq: expectedSeq, id: null, count: chainSeq - expectedSeq });
      if (row.prev_hash === null || row.hash === null || entryHash(row.prev_hash, row) !== row.hash) {
        problems.push({ kind: 'modified', chain_seq: chainSeq, id: row.id });
      } else if (!gap && row.prev_hash !== prevHash) {
        if (!prevRow && start) {
          problems.push({ kind: 'checkpoint', chain_seq: start.up_to_chain_seq, id: null, reason: 'does_not_match_chain' });
        } else if (await linksToKnownEntry(db, organizationId, row.prev_hash)) {
          problems.push({ kind: 'reordered', chain_seq: chainSeq, id: row.id });
        } else if (prevRow && !problems.some((p) => p.id === prevRow!.id)) {
          // The predecessor was edited and its hash recomputed to match.
          problems.push({ kind: 'modified', chain_seq: Number(prevRow.chain_seq), id: prevRow.id });
        } else if (!prevRow) {
          problems.push({ kind: 'modified', chain_seq: chainSeq, id: row.id });
        }
      }
      expectedSeq = chainSeq + 1;
      prevHash = row.hash ?? '';
      prevRow = row;
    }
    if (rows.length < 1000) break;
  }
  const [head] = await db.query<{ chain_seq: string; hash: string }>(
    'SELECT chain_seq::text AS chain_seq, hash FROM activity_chain_heads WHERE organization_id = $1',
    [organizationId],
  );
  if (head && Number(head.chain_seq) >= expectedSeq) {
    problems.push({ kind: 'missing', chain_seq: expectedSeq, id: null, count: Number(head.chain_seq) - expectedSeq + 1 });
  } else if (head && !prevRow && start && head.hash !== start.hash_at) {
    // Everything was pruned: the checkpoint must be the chain's head.
    problems.push({ kind: 'checkpoint', chain_seq: start.up_to_chain_seq, id: null, reason: 'does_not_match_chain' });
  }
  problems.sort((a, b) => a.chain_seq - b.chain_seq);
  const report: ChainReport = { organization_id: organizationId, ok: problems.length === 0, entries, problems };
  if (start) report.pruned = start;
  return report;
}

interface CheckpointRow {
  up_to_chain_seq: string;
  hash_at: string;
  signature: string | null;
  created_at: string;
}

/**
 * Checks every retention checkpoint of the organization (an unsigned, forged or unverifiable one is
 * a problem) and returns the validly signed one the chain resumes after: the latest that ends
 * before the first remaining entry. Null when nothing was pruned (or no valid checkpoint covers it).
 */
async function startingCheckpoint(db: Queryable, organizationId: string, key: AuditKey | null, problems: ChainProblem[]): Promise<PrunedInfo | null> {
  const checkpoints = await db.query<CheckpointRow>(
    `SELECT up_to_chain_seq::text AS up_to_chain_seq, hash_at, signature,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
     FROM activity_chain_checkpoints WHERE organization_id = $1 ORDER BY up_to_chain_seq`,
    [organizationId],
  );
  if (checkpoints.length === 0) return null;
  const [first] = await db.query<{ chain_seq: string | null }>(
    'SELECT min(chain_seq)::text AS chain_seq FROM activity_log WHERE organization_id = $1 AND chain_seq IS NOT NULL',
    [organizationId],
  );
  const firstRemaining = first?.chain_seq ? Number(first.chain_seq) : Number.POSITIVE_INFINITY;
  let start: PrunedInfo | null = null;
  for (const c of checkpoints) {
    const upTo = Number(c.up_to_chain_seq);
    const reason = !c.signature
      ? 'unsigned'
      : !key
        ? 'no_key'
        : checkpointSignatureValid(key, { organization_id: organizationId, up_to_chain_seq: upTo, hash_at: c.hash_at }, c.signature)
          ? null
          : 'bad_signature';
    if (reason) problems.push({ kind: 'checkpoint', chain_seq: upTo, id: null, reason });
    else if (upTo < firstRemaining) start = { up_to_chain_seq: upTo, hash_at: c.hash_at, checkpoint_created_at: c.created_at };
  }
  return start;
}

async function linksToKnownEntry(db: Queryable, organizationId: string, hash: string): Promise<boolean> {
  if (hash === GENESIS) return true;
  const rows = await db.query('SELECT 1 FROM activity_log WHERE organization_id = $1 AND hash = $2 LIMIT 1', [organizationId, hash]);
  return rows.length > 0;
}

/** Every organization with a chain or with entries to chain. */
export async function chainedOrganizations(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT organization_id::text AS id FROM activity_chain_heads
     UNION SELECT DISTINCT organization_id::text FROM activity_log WHERE organization_id IS NOT NULL
     ORDER BY 1`,
  );
  return rows.map((r) => r.id);
}
