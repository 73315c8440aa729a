import type { FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';
import { recordSecurityEvent } from '../domain/activity/security-events.js';
import { ScimError } from '../scim/errors.js';
import type { Database } from '../store/database.js';

/**
 * A refusal decided past the guard (the grant ceiling, a domain rule, a SCIM token's ceiling) is a
 * security event like the guard's own denials: who, which route (its pattern), and the rule's reason.
 * The request's transaction has rolled back; the event is written in its own.
 */
export async function recordRefusal(db: Database, request: FastifyRequest, error: unknown, organizationId?: string | null): Promise<void> {
  const refused = (error instanceof DomainError && error.kind === 'permission_denied') || (error instanceof ScimError && error.status === 403);
  if (!refused) return;
  const ctx = request.ctx;
  const principal = ctx?.principal ?? null;
  await recordSecurityEvent(
    db,
    {
      activity: 'access_denied',
      organizationId: organizationId ?? ctx?.project?.project.organization_id ?? ctx?.organization?.record.id ?? null,
      teamId: ctx?.project?.project.id ?? null,
      userId: principal?.userId ?? null,
      context: {
        method: request.method,
        route: request.routeOptions.url ?? null,
        principal: principal?.kind ?? (error instanceof ScimError ? 'scim_token' : null),
        ...(principal?.kind === 'personal_api_key' ? { key_id: principal.keyId } : {}),
        reason: error.message,
        status: 403,
      },
    },
    request.log,
  );
}
