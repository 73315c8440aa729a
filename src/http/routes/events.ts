import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

/** Events (list, filter, NDJSON export) and the query route, under /api/projects/:project_id/. */
export function eventRoutes(_app: FastifyInstance, _deps: Deps): void {}
