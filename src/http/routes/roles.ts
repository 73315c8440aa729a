import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Roles and role memberships under /api/organizations/:organization_id/roles/. */
export function roleRoutes(_app: FastifyInstance, _deps: Deps): void {}
