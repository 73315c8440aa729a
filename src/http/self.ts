import type { FastifyRequest } from 'fastify';
import { notFound } from '../domain/errors.js';
import type { UserRecord } from '../domain/records.js';
import { SESSION_COOKIE } from './principal.js';

/** Routes under /api/users/:user_id/ serve only the caller: `@me` or their own uuid; anyone else is not found. */
export function assertSelf(user: UserRecord, id: string): void {
  if (id !== '@me' && id !== user.uuid) throw notFound();
}

/** The caller's own session cookie (kept when their other sessions end); null when a key authenticated the request. */
export const ownSessionToken = (request: FastifyRequest): string | null => (request.ctx.sessionId !== null ? (request.cookies[SESSION_COOKIE] ?? null) : null);
