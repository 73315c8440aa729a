import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `bytes` random bytes from the crypto RNG, written in base62 (rejection sampling, no bias). */
export function randomBase62(bytes: number): string {
  let out = '';
  while (out.length < bytes) {
    for (const b of randomBytes(bytes * 2)) {
      if (b < 248 && out.length < bytes) out += BASE62[b % 62];
    }
  }
  return out;
}

/** One-shot hashing (crypto.hash): a quarter of createHash's cost on the short strings of the hot path. */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** A project's ingestion token, as PostHog formats it. */
export const newProjectToken = () => `phc_${randomBase62(43)}`;
