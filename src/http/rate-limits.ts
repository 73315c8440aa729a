import type { FastifyRequest } from 'fastify';
import { hit, LIMITS, unhit, type Limit } from '../domain/identity/rate-limits.js';
import type { Database } from '../store/database.js';
import { errorBody, HttpError } from './errors.js';

export { LIMITS };

/** PostHog's (DRF's) answer to a throttled request, with Retry-After. */
export function throttled(retryAfter: number): HttpError {
  return new HttpError(429, errorBody('throttled_error', 'throttled', `Request was throttled. Expected available in ${retryAfter} seconds.`), {
    'retry-after': String(retryAfter),
  });
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

  /**
   * Counts a failure, atomically in the database; once at the limit, the key is refused until the
   * window ends. A failure beyond the limit (concurrent ones that all passed the check) is answered
   * 429 instead of its own answer, so no more than `max` failures per window are ever told apart.
   */
  async fail(limit: Limit, key: string): Promise<void> {
    if (!this.enabled) return;
    const { hits, retryAfter } = await hit(this.db, limit, key);
    if (hits >= limit.max) this.block(limit, key, retryAfter);
    if (hits > limit.max) throw throttled(retryAfter);
  }

  /**
   * Counts an attempt before it is verified (password logins: verifying is slow, and concurrent
   * guesses must not all pass a check made before any of them failed). Refuses it when the window
   * is full. The caller hands back with `refund` an attempt that did not fail.
   */
  async attempt(limit: Limit, key: string): Promise<void> {
    if (!this.enabled) return;
    this.refuseIfBlocked(limit, key);
    const { hits, retryAfter } = await hit(this.db, limit, key);
    if (hits >= limit.max) this.block(limit, key, retryAfter);
    if (hits > limit.max) throw throttled(retryAfter);
  }

  /** Takes back an attempt counted by `attempt` that did not fail. */
  async refund(limit: Limit, key: string): Promise<void> {
    if (!this.enabled) return;
    this.blocked.delete(blockKey(limit, key));
    await unhit(this.db, limit, key);
  }

  /**
   * Runs a verification (a password, a second-factor code, a passkey) with each attempt counted
   * before it, under every (limit, key) given: concurrent guesses cannot all pass a check made
   * before any of them failed. Attempts that did not fail (`failed` says which errors are failures)
   * are handed back.
   */
  async guard<T>(counts: ReadonlyArray<readonly [Limit, string]>, verify: () => Promise<T>, failed: (err: unknown) => boolean): Promise<T> {
    const taken: Array<readonly [Limit, string]> = [];
    const handBack = async () => {
      for (const [limit, key] of taken) await this.refund(limit, key);
    };
    try {
      for (const count of counts) {
        await this.attempt(count[0], count[1]);
        taken.push(count);
      }
    } catch (err) {
      await handBack();
      throw err;
    }
    try {
      const result = await verify();
      await handBack();
      return result;
    } catch (err) {
      if (!failed(err)) await handBack();
      throw err;
    }
  }

  private block(limit: Limit, key: string, retryAfter: number): void {
    if (this.blocked.size > 10_000) this.blocked.clear();
    this.blocked.set(blockKey(limit, key), Date.now() + retryAfter * 1000);
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
