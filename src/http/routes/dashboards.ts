import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Dashboards and their tiles under /api/projects/:project_id/dashboards/. */
export function dashboardRoutes(_app: FastifyInstance, _deps: Deps): void {}
