import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Feature flags CRUD under /api/projects/:project_id/feature_flags/. */
export function featureFlagRoutes(_app: FastifyInstance, _deps: Deps): void {}
