import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../domain/actor.js';
import { userActor } from '../domain/actor.js';
import { notAuthenticated } from '../domain/errors.js';
import type { UserRecord } from '../domain/records.js';
import type { Session } from '../domain/identity/sessions.js';
import type { Database } from '../store/database.js';
import type { WardenConfig } from '../config.js';
import type { Registry } from 'prom-client';
import type { RateLimiter } from './rate-limits.js';
import { CSRF_COOKIE, SESSION_COOKIE } from './principal.js';

/** What every route module receives. */
export interface Deps {
  db: Database;
  config: WardenConfig;
  /** The app's Prometheus registry (served at /metrics when a token is configured). */
  metrics: Registry;
  limiter: RateLimiter;
}

/** The signed-in user behind the request (session or key); the guard has already run. */
export function currentUser(request: FastifyRequest): UserRecord {
  const user = request.ctx.user;
  if (!user) throw notAuthenticated();
  return user;
}

/**
 * Whether the request's credentials reach an organization on a route that names none (the lists,
 * the account): a personal API key reaches only the organizations the guard found it may be used in.
 */
export function reachesOrganization(request: FastifyRequest, organizationId: string): boolean {
  return request.ctx.keyOrganizations?.has(organizationId) ?? true;
}

export function actorOf(request: FastifyRequest): Actor & { userId: number } {
  const user = currentUser(request);
  return { ...userActor(user.id, request.ctx.apiKey?.id), requestId: request.id } as Actor & { userId: number };
}

function secure(request: FastifyRequest, config: WardenConfig): boolean {
  return config.secureCookies === 'always' || (config.secureCookies === 'auto' && request.protocol === 'https');
}

/** Session cookie: httpOnly, SameSite=Lax, Secure behind https. The CSRF cookie is readable by scripts. */
export function setSessionCookies(reply: FastifyReply, request: FastifyRequest, config: WardenConfig, session: Session): void {
  const common = { path: '/', sameSite: 'lax' as const, secure: secure(request, config), maxAge: session.maxAgeSeconds };
  reply.setCookie(SESSION_COOKIE, session.token, { ...common, httpOnly: true });
  reply.setCookie(CSRF_COOKIE, session.csrfToken, { ...common, httpOnly: false });
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
  reply.clearCookie(CSRF_COOKIE, { path: '/' });
}
