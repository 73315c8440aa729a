import { createHash, createHmac, randomUUID } from 'node:crypto';
import { outboundFetch, type OutboundFetch } from '../../net/outbound-fetch.js';
import type { OutboundPolicy } from '../../net/outbound-policy.js';
import type { Database } from '../../store/database.js';
import { listChainedAfter, type ChainedActivityRow } from './activity-log.js';

/**
 * Delivers every organization's chained activity-log entries to its sinks: at least once, in chain
 * order, in batches (one JSON POST each), retried with capped exponential backoff.
 *
 * - The cursor (last_delivered_seq, a chain_seq) lives in the database and moves only after a 2xx,
 *   so a sink that is down loses nothing and a restarted node resumes where the last one stopped.
 * - Several nodes share the work: a node claims one due sink at a time with
 *   `FOR UPDATE SKIP LOCKED` and holds a lease (lease_until, lease_token) while it posts; the result
 *   is written only if the lease is still its own. A batch may be sent again after a crash, hence
 *   stable ids: each entry's `id`, listed in `X-Warden-Entry-Ids`, and `Idempotency-Key` = sha256
 *   of that list.
 * - The body is signed: `X-Warden-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 */

export interface DeliveryOptions {
  retryBaseMs: number;
  retryMaxMs: number;
  /** Entries per POST. */
  batchSize?: number;
  timeoutMs?: number;
  leaseMs?: number;
  /** Extra trusted CA certificate(s), PEM. */
  ca?: string;
  /** Where posts may go (the instance's outbound policy). */
  policy: OutboundPolicy;
  /** The entry as a sink receives it. */
  entry: (row: ChainedActivityRow) => Record<string, unknown>;
}

interface Claim {
  id: string;
  organization_id: string;
  url: string;
  secret: string;
  last_delivered_seq: string;
  consecutive_failures: number;
  lease_token: string;
}

const MAX_ERROR = 500;

/** Backoff after the n-th consecutive failure: base · 2^(n-1), at most max. */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 40));
}

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** Claims one enabled, due sink that has entries past its cursor and no live lease. */
async function claimDueSink(db: Database, leaseMs: number): Promise<Claim | null> {
  const [claim] = await db.query<Claim>(
    `UPDATE activity_log_sinks s SET lease_until = now() + make_interval(secs => $1::float8 / 1000), lease_token = $2
     WHERE s.id = (
       SELECT c.id FROM activity_log_sinks c
       WHERE c.enabled AND c.next_attempt_at <= now() AND (c.lease_until IS NULL OR c.lease_until < now())
         AND EXISTS (SELECT 1 FROM activity_log a WHERE a.organization_id = c.organization_id AND a.chain_seq > c.last_delivered_seq)
       ORDER BY c.next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING s.id::text AS id, s.organization_id::text AS organization_id, s.url, s.secret,
               s.last_delivered_seq::text AS last_delivered_seq, s.consecutive_failures, s.lease_token`,
    [leaseMs, randomUUID()],
  );
  return claim ?? null;
}

interface PostResult {
  ok: boolean;
  error?: string;
}

/**
 * What a sink's status shows for a failed post: the answer's status when the sink answered, else
 * one generic sentence (the cause, refused address or connection error, is not shown: sinks must
 * not become a way to probe Warden's network).
 */
async function post(send: OutboundFetch, url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<PostResult> {
  try {
    const res = await send(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    return res.ok ? { ok: true } : { ok: false, error: `HTTP ${res.status}` };
  } catch {
    return { ok: false, error: 'could not reach the sink (no connection, no answer in time, or an address the outbound policy does not allow)' };
  }
}

/** Posts one batch for a claimed sink and records the outcome; returns true when a full batch went out. */
async function deliverBatch(db: Database, send: OutboundFetch, claim: Claim, options: DeliveryOptions, signal: AbortSignal): Promise<boolean> {
  const batchSize = options.batchSize ?? 100;
  const rows = await listChainedAfter(db, claim.organization_id, Number(claim.last_delivered_seq), batchSize);
  const release = () =>
    db.query('UPDATE activity_log_sinks SET lease_until = NULL, lease_token = NULL WHERE id = $1 AND lease_token = $2', [claim.id, claim.lease_token]);
  if (rows.length === 0) {
    await release();
    return false;
  }
  const ids = rows.map((r) => r.id);
  const body = JSON.stringify({
    sink_id: claim.id,
    organization_id: claim.organization_id,
    entries: rows.map((r) => ({ ...options.entry(r), chain_seq: r.chain_seq, hash: r.hash })),
  });
  const result = await post(
    send,
    claim.url,
    body,
    {
      'content-type': 'application/json',
      'user-agent': 'Warden activity log sink',
      'idempotency-key': createHash('sha256').update(ids.join(',')).digest('hex'),
      'x-warden-entry-ids': ids.join(','),
      'x-warden-signature': signatureHeader(claim.secret, body, Math.floor(Date.now() / 1000)),
    },
    signal,
  );
  if (signal.aborted) {
    // Shutting down: not the sink's failure. Hand the sink back for the next node or start.
    await release();
    return false;
  }
  if (result.ok) {
    await db.query(
      `UPDATE activity_log_sinks SET last_delivered_seq = $3, last_success_at = now(), last_attempt_at = now(), last_error = NULL,
         consecutive_failures = 0, next_attempt_at = now(), lease_until = NULL, lease_token = NULL
       WHERE id = $1 AND lease_token = $2`,
      [claim.id, claim.lease_token, rows[rows.length - 1]!.chain_seq],
    );
    return rows.length === batchSize;
  }
  const failures = claim.consecutive_failures + 1;
  await db.query(
    `UPDATE activity_log_sinks SET last_attempt_at = now(), last_error = $3, consecutive_failures = $4,
       next_attempt_at = now() + make_interval(secs => $5::float8 / 1000), lease_until = NULL, lease_token = NULL
     WHERE id = $1 AND lease_token = $2`,
    [claim.id, claim.lease_token, (result.error ?? 'failed').slice(0, MAX_ERROR), failures, backoffMs(failures, options.retryBaseMs, options.retryMaxMs)],
  );
  return false;
}

/** One pass: delivers to every due sink (a sink with a full batch is claimed again) until none is due. */
export function sinkDeliverer(db: Database, options: DeliveryOptions) {
  const send = outboundFetch(options.policy, { timeoutMs: options.timeoutMs ?? 10_000, maxBytes: 64 * 1024, ...(options.ca ? { ca: options.ca } : {}) });
  const abort = new AbortController();
  const leaseMs = options.leaseMs ?? Math.max(60_000, (options.timeoutMs ?? 10_000) * 3);
  let claiming = true;
  return {
    async runOnce(maxBatches = 1000): Promise<void> {
      for (let i = 0; i < maxBatches && claiming && !abort.signal.aborted; i++) {
        const claim = await claimDueSink(db, leaseMs);
        if (!claim) return;
        await deliverBatch(db, send, claim, options, abort.signal);
      }
    },
    /** Claims no more sinks; a post in flight goes on to its answer (shutting down drains). */
    stopClaiming(): void {
      claiming = false;
    },
    /** Aborts posts in flight (their sinks are released) and closes their connections. */
    abort(): void {
      abort.abort();
    },
  };
}
