import type { FastifyRequest } from 'fastify';
import type { Principal } from '../access/decide.js';
import { recordSecurityEvent, type SecurityActivity } from '../domain/activity/security-events.js';
import type { Database } from '../store/database.js';
import { clientAddress } from './rate-limits.js';

/**
 * The in-memory side of keys bound to networks and rates (docs/key-networks.md): the per-key request
 * windows of keys that carry a rate limit, and the throttle that keeps a flood of refusals from
 * flooding the activity log. Both are per node: with N nodes behind a balancer a key may make up to
 * N times its rate in a minute (each node counts what it serves); no request pays a database round
 * trip for either.
 */

const MINUTE_MS = 60_000;
/** Beyond this many keys tracked, windows that have ended are dropped (then everything, if need be). */
const MAX_TRACKED = 50_000;

/** A fixed one-minute window per key (aligned to the clock's minutes, as the database limiter's windows are). */
export class KeyRequestRate {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /** Counts a request of the key; returns the seconds until its window ends when it is over its rate (null: go ahead). */
  take(keyId: string, perMinute: number, now = Date.now()): number | null {
    const start = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    let window = this.windows.get(keyId);
    if (!window || window.start !== start) {
      if (this.windows.size >= MAX_TRACKED) this.prune(start);
      window = { start, count: 0 };
      this.windows.set(keyId, window);
    }
    if (window.count >= perMinute) return Math.max(1, Math.ceil((start + MINUTE_MS - now) / 1000));
    window.count++;
    return null;
  }

  private prune(currentStart: number): void {
    for (const [key, window] of this.windows) if (window.start !== currentStart) this.windows.delete(key);
    if (this.windows.size >= MAX_TRACKED) this.windows.clear();
  }
}

/**
 * At most one security event per (key, kind of refusal, address) per minute and node; the refusals
 * not recorded in between are counted, and the next event recorded carries how many (`suppressed`).
 */
export class RefusalThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  /** Whether to record this refusal, and how many like it went unrecorded since the last one. */
  admit(key: string, now = Date.now()): { record: boolean; suppressed: number } {
    const entry = this.last.get(key);
    if (entry && now - entry.at < MINUTE_MS) {
      entry.suppressed++;
      return { record: false, suppressed: 0 };
    }
    if (!entry && this.last.size >= MAX_TRACKED) this.last.clear();
    this.last.set(key, { at: now, suppressed: 0 });
    return { record: true, suppressed: entry?.suppressed ?? 0 };
  }
}

type KeyPrincipal = Extract<Principal, { kind: 'personal_api_key' }>;

/** Records a key's refusal for its address or its rate, throttled. `organizationId`: the organization the request concerned, else the key user's current one. */
export async function recordKeyRefusal(
  db: Database,
  throttle: RefusalThrottle,
  request: FastifyRequest,
  key: KeyPrincipal,
  activity: Extract<SecurityActivity, 'api_key_address_refused' | 'api_key_rate_limited'>,
  organizationId: string | null,
  context: Record<string, unknown>,
): Promise<void> {
  const address = clientAddress(request);
  const { record, suppressed } = throttle.admit(`${activity}\u0000${key.keyId}\u0000${address}`);
  if (!record) return;
  await recordSecurityEvent(
    db,
    {
      activity,
      organizationId,
      userId: key.userId,
      itemId: key.keyId,
      context: {
        method: request.method,
        route: request.routeOptions.url ?? null,
        key_id: key.keyId,
        service_account: key.isServiceAccount,
        client_address: address,
        ...context,
        // Refusals of the same key from the same address in the minute before this one, not recorded one by one.
        suppressed,
      },
    },
    request.log,
  );
}
