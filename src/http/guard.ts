import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decide, OUTSIDE_RANGES_REASON, RANGES_REQUIRED_REASON, type Denial, type OrganizationFacts, type ProjectFacts } from '../access/decide.js';
import type { RouteAccess } from '../access/route-access.js';
import { secondFactorGate } from '../access/second-factor.js';
import { findMembership, findOrganization, keyPolicyOf, listOrganizationsOfUser } from '../domain/organizations/organizations.js';
import { findProjectAccess, type ProjectAccess } from '../domain/organizations/projects.js';
import type { MembershipRecord, OrganizationRecord } from '../domain/records.js';
import { isUuid } from '../domain/identity/users.js';
import type { Database, Queryable } from '../store/database.js';
import { findKeyByValue } from '../domain/organizations/api-keys.js';
import { findProjectByToken } from '../domain/analytics/feature-flags.js';
import { DomainError } from '../domain/errors.js';
import { maskKeyValue, recordSecurityEvent } from '../domain/activity/security-events.js';
import { errorBody, HttpError } from './errors.js';
import { clientAddress, LIMITS, throttled, type RateLimiter } from './rate-limits.js';
import { KeyRequestRate, recordKeyRefusal, RefusalThrottle } from './key-bounds.js';
import { anonymous, authenticate, CSRF_HEADER, presentedKey, type Authentication } from './principal.js';
import { safeEqual } from '../domain/identity/tokens.js';
import type { ResourceActor } from '../domain/access-control/resource-access.js';
import { gateResource } from './resource-gate.js';

export interface RequestContext extends Authentication {
  organization?: { record: OrganizationRecord; membership: MembershipRecord };
  project?: ProjectAccess;
  /** The caller's resource facts, on routes that declare the resource they serve (src/http/resource-gate.ts). */
  resource?: ResourceActor;
  /** What the guard decided, for metrics. */
  decision?: { allow: boolean; reason: string };
  /** For a personal API key on a route naming no organization or project: the organizations it reaches there. */
  keyOrganizations?: ReadonlySet<string>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** Reachable by someone who must still set up a second factor (src/access/second-factor.ts). */
    secondFactorSetup?: boolean;
  }
  interface FastifyRequest {
    ctx: RequestContext;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A request's context with every field present from the start, in one order: the guard fills in
 * organization, project and decision later, and an object that grows a field at a time changes its
 * hidden class each time (measured: a tenth of the guard's own time went to those assignments).
 */
function contextOf(auth: Authentication): RequestContext {
  return {
    principal: auth.principal,
    user: auth.user,
    apiKey: auth.apiKey,
    sessionCsrfToken: auth.sessionCsrfToken,
    sessionId: auth.sessionId,
    secondFactorSetupRequired: auth.secondFactorSetupRequired,
    organization: undefined,
    project: undefined,
    resource: undefined,
    decision: undefined,
    keyOrganizations: undefined,
  };
}

/** Every registered route must declare its access; this makes an undeclared route a start-up error. */
export function requireAccessDeclarations(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD' || (Array.isArray(route.method) && route.method.every((m) => m === 'HEAD'))) return;
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    if (!access) throw new Error(`Route ${String(route.method)} ${route.url} declares no access; every route must.`);
  });
}

/**
 * The one guard: who is calling, what the route needs, decided by access/decide. The first step of
 * the app's preValidation hook, for every route (each declares its access; only Fastify's not-found
 * route has none, and it answers 404/405 itself and touches nothing).
 */
export function guardStep(app: FastifyInstance, db: Database, limiter: RateLimiter): (request: FastifyRequest, access: RouteAccess) => Promise<void> {
  app.decorateRequest('ctx', null as unknown as RequestContext);
  // Keys' rates and the throttle of their refusals' events: this node's memory (src/http/key-bounds.ts).
  const keyRate = new KeyRequestRate();
  const refusals = new RefusalThrottle();
  return async (request, access) => {
    // SCIM routes authenticate their domain's bearer token themselves (before this hook runs).
    if (access.kind === 'scim_token') {
      request.ctx = contextOf(anonymous);
      return;
    }
    const open = access.kind === 'public' || access.kind === 'project_token';
    const auth = open ? await authenticate(db, request).catch(() => anonymous) : await authenticateOrRecord(db, request, limiter);
    request.ctx = contextOf(auth);
    if (open) return;
    enforceCsrf(request, auth);
    const gate = secondFactorGate(auth.secondFactorSetupRequired, request.routeOptions.config.secondFactorSetup === true);
    if (!gate.allow) {
      await recordDenial(db, request, auth, gate, undefined, undefined, auth.user?.current_organization_id ?? null);
      throw new HttpError(gate.status, errorBody('authentication_error', gate.code, gate.detail));
    }

    const params = request.params as Record<string, string | undefined>;
    const projectParam = access.kind === 'scoped' && access.project === 'token' ? await projectIdFromToken(db, request) : params.project_id;
    const project = projectParam !== undefined ? await resolveProject(db, request, projectParam) : undefined;
    let organization: OrganizationFacts | 'missing' | undefined;
    if (project && project !== 'missing') {
      organization = await resolveOrganization(db, request, project.project.organization_id);
    } else if (params.organization_id !== undefined) {
      organization = await resolveOrganization(db, request, params.organization_id);
    }
    const accountWide = auth.principal?.kind === 'personal_api_key' && project === undefined && organization === undefined;
    const decision = decide({
      principal: auth.principal,
      access,
      organization,
      project: project === undefined ? undefined : project === 'missing' ? 'missing' : projectFacts(project),
      targetKeyId: params.key_id === '@current' ? auth.apiKey?.id : params.key_id,
      ...(accountWide ? { accountOrganizations: await accountOrganizations(db, auth.principal!.userId) } : {}),
      clientAddress: clientAddress(request),
      now: new Date(),
    });
    request.ctx.decision = { allow: decision.allow, reason: decision.reason };
    if (decision.allow && decision.keyOrganizations) request.ctx.keyOrganizations = new Set(decision.keyOrganizations);
    const key = auth.principal?.kind === 'personal_api_key' ? auth.principal : null;
    const eventOrganization =
      project && project !== 'missing'
        ? project.project.organization_id
        : organization && organization !== 'missing'
          ? organization.id
          : (auth.user?.current_organization_id ?? null);
    if (!decision.allow) {
      if (key && (decision.reason === OUTSIDE_RANGES_REASON || decision.reason === RANGES_REQUIRED_REASON)) {
        await recordKeyRefusal(db, refusals, request, key, 'api_key_address_refused', eventOrganization, {
          reason: decision.reason,
          allowed_ips: auth.apiKey?.allowed_ips ?? null,
        });
      } else if (decision.status === 403) await recordDenial(db, request, auth, decision, organization, project);
      throw new HttpError(decision.status, errorBody(decision.status === 404 ? 'invalid_request' : 'authentication_error', decision.code, decision.detail));
    }
    // A key's own rate (requests per minute, this node's count): only requests it may make count.
    const perMinute = key?.rateLimitPerMinute;
    if (key && perMinute !== null && perMinute !== undefined) {
      const retryAfter = keyRate.take(key.keyId, perMinute);
      if (retryAfter !== null) {
        await recordKeyRefusal(db, refusals, request, key, 'api_key_rate_limited', eventOrganization, {
          rate_limit_per_minute: perMinute,
          retry_after: retryAfter,
        });
        throw throttled(retryAfter);
      }
    }
    if (project && project !== 'missing') request.ctx.project = project;
    await gateResource(db, request, access);
  };
}

/** Authenticates; a rejected personal API key is recorded as a security event (masked, never the value). */
async function authenticateOrRecord(db: Database, request: FastifyRequest, limiter: RateLimiter): Promise<Authentication> {
  // An address over its limit of failed key authentications is refused before any lookup.
  if (presentedKey(request)) limiter.refuseIfBlocked(LIMITS.keyFailuresPerAddress, request.ip);
  try {
    return await authenticate(db, request);
  } catch (err) {
    const key = err instanceof DomainError && err.kind === 'authentication_failed' ? presentedKey(request) : null;
    if (key) {
      await limiter.fail(LIMITS.keyFailuresPerAddress, request.ip);
      // A known key (expired, or its user deactivated) names its owner; an unknown one is instance-level.
      const known = await findKeyByValue(db, key.value).catch(() => undefined);
      await recordSecurityEvent(
        db,
        {
          activity: 'api_key_auth_failed',
          organizationId: known?.user.current_organization_id ?? null,
          userId: known?.user.id ?? null,
          itemId: known?.key.id ?? null,
          context: { source: key.source, mask: maskKeyValue(key.value), ...(known ? { key_id: known.key.id } : {}) },
        },
        request.log,
      );
    }
    throw err;
  }
}

/** A 403 decided by decide(): who, which route (its pattern, not the raw URL) and the decision's reason. */
async function recordDenial(
  db: Database,
  request: FastifyRequest,
  auth: Authentication,
  decision: Pick<Denial, 'reason' | 'status'>,
  organization: OrganizationFacts | 'missing' | undefined,
  project: ProjectAccess | 'missing' | undefined,
  otherwiseOrganizationId: string | null = null,
): Promise<void> {
  const principal = auth.principal;
  const organizationId =
    project && project !== 'missing' ? project.project.organization_id : organization && organization !== 'missing' ? organization.id : otherwiseOrganizationId;
  await recordSecurityEvent(
    db,
    {
      activity: 'access_denied',
      organizationId,
      teamId: project && project !== 'missing' ? project.project.id : null,
      userId: principal?.userId ?? null,
      context: {
        method: request.method,
        route: request.routeOptions.url ?? null,
        principal: principal?.kind ?? null,
        ...(principal?.kind === 'personal_api_key' ? { key_id: principal.keyId } : {}),
        reason: decision.reason,
        status: decision.status,
      },
    },
    request.log,
  );
}

function enforceCsrf(request: FastifyRequest, auth: Authentication): void {
  if (SAFE_METHODS.has(request.method) || auth.sessionCsrfToken === null) return;
  const header = request.headers[CSRF_HEADER];
  if (typeof header !== 'string' || !safeEqual(header, auth.sessionCsrfToken)) {
    throw new HttpError(403, errorBody('authentication_error', 'permission_denied', 'CSRF Failed: CSRF token missing or incorrect.'));
  }
}

async function resolveOrganization(db: Queryable, request: FastifyRequest, idParam: string): Promise<OrganizationFacts | 'missing'> {
  const user = request.ctx.user;
  const id = idParam === '@current' ? (user?.current_organization_id ?? (await firstOrganizationId(db, user?.id))) : idParam;
  if (!id || !isUuid(id)) return 'missing';
  const record = await findOrganization(db, id);
  if (!record) return 'missing';
  const membership = user ? await findMembership(db, id, user.id) : undefined;
  if (membership) request.ctx.organization = { record, membership };
  return organizationFacts(record, membership?.level ?? null);
}

async function accountOrganizations(db: Queryable, userId: number): Promise<OrganizationFacts[]> {
  return (await listOrganizationsOfUser(db, userId)).map((record) => organizationFacts(record, record.level));
}

function organizationFacts(record: OrganizationRecord, level: number | null): OrganizationFacts {
  return {
    id: record.id,
    name: record.name,
    level,
    membersCanUsePersonalApiKeys: record.members_can_use_personal_api_keys,
    keyPolicy: keyPolicyOf(record),
  };
}

async function firstOrganizationId(db: Queryable, userId: number | undefined): Promise<string | undefined> {
  if (userId === undefined) return undefined;
  const [row] = await db.query<{ organization_id: string }>(
    'SELECT organization_id FROM organization_memberships WHERE user_id = $1 ORDER BY joined_at LIMIT 1',
    [userId],
  );
  return row?.organization_id;
}

async function resolveProject(db: Queryable, request: FastifyRequest, idParam: string): Promise<ProjectAccess | 'missing'> {
  const user = request.ctx.user;
  const id = idParam === '@current' ? user?.current_project_id : /^\d{1,9}$/.test(idParam) ? Number(idParam) : null;
  if (!id || !user) return 'missing';
  return (await findProjectAccess(db, id, user.id)) ?? 'missing';
}

/** The project named by the request's token (`token` or `api_key` in the query or body), else the user's current one. */
async function projectIdFromToken(db: Queryable, request: FastifyRequest): Promise<string> {
  const token = presentedProjectToken(request);
  if (token === undefined) return '@current';
  // A NUL names no project (and Postgres refuses it in text: a 500 otherwise). Found by the route fuzzer.
  if (token.includes('\u0000')) return 'missing';
  const project = await findProjectByToken(db, token);
  return project ? String(project.id) : 'missing';
}

export function presentedProjectToken(request: FastifyRequest): string | undefined {
  for (const source of [request.query, request.body] as Array<Record<string, unknown> | undefined>) {
    if (source && typeof source === 'object') {
      for (const name of ['token', 'api_key']) {
        const value = source[name];
        if (typeof value === 'string' && value.length > 0 && value.length <= 200) return value;
      }
    }
  }
  return undefined;
}

function projectFacts(access: ProjectAccess): ProjectFacts {
  return { id: access.project.id, organizationId: access.project.organization_id, effectiveLevel: access.effectiveLevel };
}
