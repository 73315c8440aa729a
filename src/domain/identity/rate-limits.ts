import type { Queryable } from '../../store/database.js';

/** A fixed-window limit: at most `max` hits per `windowSeconds` for one key of the bucket. */
export interface Limit {
  bucket: string;
  max: number;
  windowSeconds: number;
}

/**
 * Warden's limits. Login failures count per client address and per (account, address): an attacker
 * elsewhere can slow guesses at an account but never lock its owner out, and every window ends.
 */
export const LIMITS = {
  loginFailuresPerAddress: { bucket: 'login_ip', max: 30, windowSeconds: 900 },
  loginFailuresPerAccount: { bucket: 'login_account_ip', max: 5, windowSeconds: 900 },
  signupsPerAddress: { bucket: 'signup_ip', max: 20, windowSeconds: 3600 },
  inviteAcceptancesPerAddress: { bucket: 'invite_accept_ip', max: 20, windowSeconds: 3600 },
  keyFailuresPerAddress: { bucket: 'key_failures_ip', max: 20, windowSeconds: 300 },
  scimFailuresPerAddress: { bucket: 'scim_failures_ip', max: 20, windowSeconds: 300 },
} as const satisfies Record<string, Limit>;

export interface WindowCount {
  hits: number;
  /** Seconds until the current window ends. */
  retryAfter: number;
}

const WINDOW = `to_timestamp(floor(extract(epoch FROM now()) / $3) * $3)`;
const RETRY_AFTER = `greatest(1, ceil(extract(epoch FROM (${WINDOW} + make_interval(secs => $3) - now()))))::int`;

/** Counts one hit in the current window (shared by every node through the database). */
export async function hit(q: Queryable, limit: Limit, key: string): Promise<WindowCount> {
  const [row] = await q.query<WindowCount>(
    `INSERT INTO rate_limit_counters (bucket, key, window_start, hits) VALUES ($1, $2, ${WINDOW}, 1)
     ON CONFLICT (bucket, key, window_start) DO UPDATE SET hits = rate_limit_counters.hits + 1
     RETURNING hits, ${RETRY_AFTER} AS "retryAfter"`,
    [limit.bucket, key.slice(0, 300), limit.windowSeconds],
  );
  // Old windows go as new hits arrive; a few rows at a time keeps this cheap.
  if (row!.hits === 1) {
    await q.query(
      `DELETE FROM rate_limit_counters WHERE ctid IN (
         SELECT ctid FROM rate_limit_counters WHERE window_start < now() - interval '1 day' LIMIT 100)`,
    );
  }
  return row!;
}

/** Takes back one hit of the current window (an attempt that turned out not to count, e.g. a login that succeeded). */
export async function unhit(q: Queryable, limit: Limit, key: string): Promise<void> {
  await q.query(`UPDATE rate_limit_counters SET hits = greatest(hits - 1, 0) WHERE bucket = $1 AND key = $2 AND window_start = ${WINDOW}`, [
    limit.bucket,
    key.slice(0, 300),
    limit.windowSeconds,
  ]);
}
