import type { FastifyRequest } from 'fastify';
import { hit, LIMITS, peek, type Limit } from '../domain/rate-limits.js';
import type { Database } from '../store/database.js';
import { errorBody, HttpError } from './errors.js';

export { LIMITS };

/** PostHog's (DRF's) answer to a throttled request, with Retry-After. */
export function throttled(retryAfter: number): HttpError {
  return new HttpError(
    429,
    errorBody('throttled_error', 'throttled', `Request was throttled. Expected available in ${retryAfter} seconds.`),
    { 'retry-after': String(retryAfter) },
  );
}

/**
 * Rate limits for the routes attackers go for: login, sign-up, invite acceptance, failed key and
 * SCIM authentications. Counters live in the database, so every node sees the same counts. Clients
 * known to be over a failure limit are also remembered in memory until their window ends, so a
 * blocked address costs no database work. Off (config) in tests that are not about limits.
 */
export class RateLimiter {
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly db: Database,
    readonly enabled: boolean,
  ) {}

  /** Refuses when the key is already over the limit (failures are counted separately, by `fail`). */
  async check(limit: Limit, key: string): Promise<void> {
    if (!this.enabled) return;
    this.refuseIfBlocked(limit, key);
    const { hits, retryAfter } = await peek(this.db, limit, key);
    if (hits >= limit.max) throw throttled(retryAfter);
  }

  /** Counts a failure; once over the limit, the key is refused until the window ends. */
  async fail(limit: Limit, key: string): Promise<void> {
    if (!this.enabled) return;
    const { hits, retryAfter } = await hit(this.db, limit, key);
    if (hits >= limit.max) {
      if (this.blocked.size > 10_000) this.blocked.clear();
      this.blocked.set(blockKey(limit, key), Date.now() + retryAfter * 1000);
    }
  }

  /** Counts an attempt and refuses it when over the limit (sign-ups, invite acceptances). */
  async consume(limit: Limit, key: string): Promise<void> {
    if (!this.enabled) return;
    const { hits, retryAfter } = await hit(this.db, limit, key);
    if (hits > limit.max) throw throttled(retryAfter);
  }

  /** Only the in-memory block list: free, for the hot path of key authentication. */
  refuseIfBlocked(limit: Limit, key: string): void {
    if (!this.enabled) return;
    const until = this.blocked.get(blockKey(limit, key));
    if (until === undefined) return;
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) throw throttled(left);
    this.blocked.delete(blockKey(limit, key));
  }
}

const blockKey = (limit: Limit, key: string) => `${limit.bucket}\u0000${key}`;

/** The client's address (X-Forwarded-For only behind a trusted proxy: Fastify's trustProxy). */
export const clientAddress = (request: FastifyRequest) => request.ip;
