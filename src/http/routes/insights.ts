import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Insights under /api/projects/:project_id/insights/. */
export function insightRoutes(_app: FastifyInstance, _deps: Deps): void {}
